import Foundation
import Testing
import TestSupport
@testable import Pipeline
@testable import FileIO

struct InputWalkerTests {
    /// A folder of 2,000 entries with names of every length: each PNG is listed once, with its
    /// name intact. (Copying the whole 256-byte d_name out of glibc's variable-length records read
    /// past its buffer here; `make sanitize` runs this under AddressSanitizer.)
    @Test func largeFolderListsEveryName() throws {
        let dir = NSTemporaryDirectory() + "latent-walk-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var expected: [String] = []
        for i in 0..<2000 {
            let name = String(repeating: "n", count: 1 + i % 200) + "-\(i).png"
            try writeFile(dir + "/" + name, Data())
            expected.append(name)
        }
        let items = try InputWalker.expand([dir], excluding: nil)
        #expect(items.map(\.relativeOutput).sorted() == expected.sorted())
    }
}
