import Glibc
import MLWire
import Synchronization

/// Encodes an `Artifact` into the file format of ARTIFACT.md and writes it atomically.
public enum ArtifactWriter {
    /// The complete file: header, parameters, reference bins, then SHA-256 of all of that.
    /// Validates first, so a writer can never produce a file the reader would refuse.
    public static func encode(_ artifact: Artifact) throws(ArtifactError) -> [UInt8] {
        try artifact.validate(source: "\(artifact.name) \(artifact.version) (being written)")
        if artifact.formatVersion == ArtifactFormat.formatVersion2 { return encodeVersion2(artifact) }
        let parameterBytes = artifact.parameters.encodedSize(formatVersion: 1)
        var out = LittleEndianBytes(capacity: ArtifactFormat.fixedSize + parameterBytes)
        out.append(ArtifactFormat.magic)
        out.append(ArtifactFormat.formatVersion)
        out.append(artifact.kind.rawValue)
        out.append(UInt8(0))
        out.append(UInt32(artifact.featureCount))
        out.append(artifact.threshold)
        out.append(UInt16(artifact.name.utf8.count))
        out.append(UInt16(artifact.version.utf8.count))
        out.append(UInt32(parameterBytes))
        out.appendPadded(Array(artifact.name.utf8), to: ArtifactFormat.nameField)
        out.appendPadded(Array(artifact.version.utf8), to: ArtifactFormat.versionField)
        switch artifact.parameters {
        case .logistic(let weights, let bias):
            out.append(weights)
            out.append(bias)
        case .mlp(let layers):
            out.append(UInt32(layers.count))
            for layer in layers {
                out.append(UInt32(layer.inputs))
                out.append(UInt32(layer.outputs))
            }
            for layer in layers {
                out.append(layer.weights)
                out.append(layer.biases)
            }
        case .treeEnsemble:
            preconditionFailure("tree ensembles are format 2 (formatVersion said 1)")
        }
        out.append(artifact.referenceBins)
        return seal(out.bytes)
    }

    /// Appends the trailing SHA-256 over `body`. Also used by tests to forge well-sealed bad files.
    public static func seal(_ body: [UInt8]) -> [UInt8] {
        body + SHA256.hash(body).byteArray
    }

    /// Encodes and writes to `path` atomically: a temp file beside it, fsync, rename, fsync the
    /// directory. A reader (or a crash) sees the old file or the complete new one, never a prefix.
    /// Returns the artifact's checksum.
    @discardableResult
    public static func write(_ artifact: Artifact, toPath path: String) throws(ArtifactError) -> Digest32 {
        let bytes = try encode(artifact)
        try writeAtomically(bytes, toPath: path)
        return Digest32(Array(bytes.suffix(ArtifactFormat.digestSize)))
    }

    public static func writeAtomically(_ bytes: [UInt8], toPath path: String) throws(ArtifactError) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let unique = tempCounter.add(1, ordering: .relaxed).newValue
        let temp = "\(path).tmp.\(getpid()).\(now.tv_nsec).\(unique)"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system(path, "create \(temp)", errno: errno) }
        var failure: ArtifactError?
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = .system(path, "write \(temp)", errno: errno)
                    return
                }
                offset += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = .system(path, "fsync \(temp)", errno: errno) }
        close(fd)
        if failure == nil, rename(temp, path) != 0 { failure = .system(path, "rename \(temp)", errno: errno) }
        if let failure {
            unlink(temp)
            throw failure
        }
        syncDirectory(of: path)
    }

    /// Best effort: makes the rename itself durable. A failure here loses durability, not data.
    private static func syncDirectory(of path: String) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// Distinguishes temp files of concurrent writers in one process (pid and time cover the rest).
    private static let tempCounter = Atomic<UInt64>(0)
}

/// Little-endian appender for the writer. Not on any hot path.
struct LittleEndianBytes {
    private(set) var bytes: [UInt8]

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func append(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }
    mutating func append(_ value: UInt8) { bytes.append(value) }
    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
    mutating func append(_ value: Float) { append(value.bitPattern) }
    mutating func append(_ value: Double) { append(value.bitPattern) }
    mutating func append(_ values: [Double]) {
        for value in values { append(value.bitPattern) }
    }
    /// u16 length then the UTF-8 bytes (ARTIFACT.md §9 `str16`).
    mutating func appendString16(_ text: String) {
        append(UInt16(text.utf8.count))
        bytes.append(contentsOf: text.utf8)
    }
    /// Overwrites a u32 written earlier (section lengths).
    mutating func patch(_ value: UInt32, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for i in 0..<4 { bytes[offset + i] = raw[i] }
        }
    }
    var count: Int { bytes.count }
    mutating func appendZeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: count)) }
    mutating func append(_ values: [Float]) {
        for value in values { append(value.bitPattern) }
    }
    mutating func appendPadded(_ raw: [UInt8], to width: Int) {
        bytes.append(contentsOf: raw)
        bytes.append(contentsOf: repeatElement(0, count: width - raw.count))
    }
}
