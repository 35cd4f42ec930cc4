import CFileIO

/// How the process's memory is handed back to the system.
public enum ProcessMemory {
    /// Buffers of 512 KB and more (feature-map windows of wide images, bands of rows) come from
    /// their own mappings and go back to the system when freed. glibc otherwise raises that
    /// threshold as such buffers are freed and serves the next ones from its heap, which keeps
    /// what was freed: a 4000x3000 photo's denoising then peaks at 152 MB instead of 146 MB.
    /// (At 128-256 KB the bands of small images are mapped afresh each time: 15% more CPU time
    /// in the kernel on a folder of 512x512 photos; at 512 KB, 3%.)
    public static func returnLargeBuffersWhenFreed() {
        _ = cfileio_set_mmap_threshold(512 * 1024)
    }
}
