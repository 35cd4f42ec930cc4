import Foundation
import Testing
@testable import PNGIO
import TestSupport

@Suite(.serialized)
struct EvalPairsTests {
    /// `eval --pairs`: a smooth clean image and a noisy copy; the noisy PSNR is the one computed
    /// here, the photo model improves on it, SSIM rises; a clean image scored against itself is
    /// lossless; the photo family scores colour pairs as photo-color; a folder without noisy/ and
    /// clean/ is refused with the reason.
    @Test func scoresRealPairs() throws {
        let dir = makeTempDir("pairs")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (w, h) = (64, 48)
        var clean: [Int] = [], noisy: [Int] = []
        var state: UInt64 = 7
        func gauss() -> Double {
            func u() -> Double { state = state &* 6364136223846793005 &+ 1442695040888963407; return (Double(state >> 11) + 0.5) / Double(1 << 53) }
            return (-2 * log(u())).squareRoot() * cos(2 * .pi * u())
        }
        var se = 0.0
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    let v = 40 + x + y + 20 * c
                    let n = min(255, max(0, Int((Double(v) + 20 * gauss()).rounded())))
                    clean.append(v); noisy.append(n)
                    se += Double((n - v) * (n - v))
                }
            }
        }
        try FileManager.default.createDirectory(atPath: dir + "/p/noisy", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/p/clean", withIntermediateDirectories: true)
        try PNGWriter.write(PNGImage(width: w, height: h, layout: .rgb, depth: 8, samples: noisy), to: dir + "/p/noisy/a.png")
        try PNGWriter.write(PNGImage(width: w, height: h, layout: .rgb, depth: 8, samples: clean), to: dir + "/p/clean/a.png")
        let expected = 10 * log10(255 * 255 / (se / Double(clean.count)))
        let r = try CLI.run(["eval", "--model", "photo", "--pairs", dir + "/p", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let pn = obj["psnr_noisy"] as! Double, pd = obj["psnr_denoised"] as! Double
        #expect(abs(pn - expected) < 0.01, "noisy PSNR \(pn), computed here \(expected)")
        #expect(pd > pn + 3, "denoised \(pd) vs noisy \(pn)")
        #expect((obj["ssim_denoised"] as! Double) > (obj["ssim_noisy"] as! Double))
        #expect(obj["pairs"] as? Int == 1)
        // The photo family scores colour pairs with its colour model, as `latent denoise` runs it.
        let colour = try CLI.run(["eval", "--model", "photo-color", "--pairs", dir + "/p", "--json"])
        let co = try JSONSerialization.jsonObject(with: Data(colour.stdout.utf8)) as! [String: Any]
        #expect(co["psnr_denoised"] as! Double == pd)
        // The self-ensemble of 8 orientations scores the same pair higher.
        let e = try CLI.run(["eval", "--model", "photo", "--pairs", dir + "/p", "--json", "--ensemble", "8"])
        #expect(e.status == 0, "\(e.stderr)")
        let eo = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as! [String: Any]
        #expect((eo["psnr_denoised"] as! Double) > pd, "ensemble \(eo["psnr_denoised"]!) vs \(pd)")
        #expect(eo["psnr_noisy"] as! Double == pn)
        // The clean image as its own noisy partner: PSNR capped at the lossless figure, SSIM 1.
        try PNGWriter.write(PNGImage(width: w, height: h, layout: .rgb, depth: 8, samples: clean), to: dir + "/p/noisy/a.png")
        let same = try JSONSerialization.jsonObject(with: Data(try CLI.run(["eval", "--model", "photo", "--pairs", dir + "/p", "--json"]).stdout.utf8)) as! [String: Any]
        #expect((same["ssim_noisy"] as! Double) > 0.9999)
        #expect((same["psnr_noisy"] as! Double) > 99)
        let bad = try CLI.run(["eval", "--model", "photo", "--pairs", dir])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("needs the subfolders noisy/ and clean/"))
    }
}
