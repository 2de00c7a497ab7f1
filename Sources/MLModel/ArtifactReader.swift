import Glibc
import MLWire

/// Reads and checks artifact files (ARTIFACT.md §5). Order of checks: size and magic
/// (INVALID_ARGUMENT), declared length vs file length (INVALID_ARGUMENT: a truncated file is a
/// shape problem even though its digest is then wrong too), trailing digest (DATA_LOSS), expected
/// checksum (DATA_LOSS), then every field (INVALID_ARGUMENT). No count read from the file sizes an
/// allocation before it has been checked against the file's real length.
public enum ArtifactReader {
    /// Reads the whole file (at most `ArtifactFormat.maxFileSize`). Not on the hot path.
    public static func readFile(path: String) throws(ArtifactError) -> [UInt8] {
        // O_NONBLOCK: a FIFO planted at the path must not hang the loader in open().
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .system(path, "open", errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .system(path, "stat", errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .invalid(path, "not a regular file") }
        let size = Int(info.st_size)
        guard size <= ArtifactFormat.maxFileSize else {
            throw .invalid(path, "file is \(size) bytes, larger than the \(ArtifactFormat.maxFileSize)-byte limit")
        }
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = 0
            while count < size {
                let n = read(fd, buffer.baseAddress! + count, size - count)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if n == 0 { return }  // shrank while reading: the shorter content is refused later
                count += n
            }
        }
        if failure != 0 { throw .system(path, "read", errno: failure) }
        return bytes
    }

    /// Decodes and fully validates `bytes`; returns the artifact and its checksum.
    public static func decode(_ bytes: [UInt8], source: String,
                              expectedChecksum: Digest32 = .zero) throws(ArtifactError) -> (Artifact, Digest32) {
        // Format 2 files can be smaller than format 1's fixed part: look at magic and version first.
        if bytes.count >= ArtifactFormat.offsetKind, Array(bytes[0..<4]) == ArtifactFormat.magic,
           UInt16(bytes[4]) | UInt16(bytes[5]) << 8 == ArtifactFormat.formatVersion2 {
            return try decodeVersion2(bytes, source: source, expectedChecksum: expectedChecksum)
        }
        let fixed = ArtifactFormat.fixedSize
        guard bytes.count >= fixed else {
            throw .invalid(source, "truncated: \(bytes.count) bytes, the smallest artifact is \(fixed)")
        }
        guard Array(bytes[0..<4]) == ArtifactFormat.magic else {
            throw .invalid(source, "bad magic \(hex(bytes[0..<4])), expected 4d4c4146 (\"MLAF\"); not an MLServe artifact")
        }
        var r = Cursor(bytes: bytes)
        let format = r.u16(at: ArtifactFormat.offsetFormatVersion)
        guard format == ArtifactFormat.formatVersion else {
            throw .invalid(source, "unsupported format version \(format), this node reads 1 and 2")
        }
        let parameterBytes = Int(r.u32(at: ArtifactFormat.offsetParameterBytes))
        guard parameterBytes == bytes.count - fixed else {
            throw .invalid(source, "length mismatch: header declares \(parameterBytes + fixed) bytes, file has \(bytes.count) (truncated or padded)")
        }
        let bodyCount = bytes.count - ArtifactFormat.digestSize
        let computed = bytes.withUnsafeBytes { SHA256.hash(UnsafeRawBufferPointer(rebasing: $0[0..<bodyCount])) }
        let stored = Digest32(Array(bytes[bodyCount...]))
        try checkDigest(computed: computed, stored: stored, expected: expectedChecksum, source: source)
        let artifact = try decodeFields(&r, parameterBytes: parameterBytes, source: source)
        return (artifact, computed)
    }

    private static func decodeFields(_ r: inout Cursor, parameterBytes: Int, source: String) throws(ArtifactError) -> Artifact {
        let kindRaw = r.u8(at: ArtifactFormat.offsetKind)
        guard let kind = ModelKind(rawValue: kindRaw) else {
            throw .invalid(source, "unknown model kind \(kindRaw) (1 logistic, 2 mlp)")
        }
        guard r.u8(at: ArtifactFormat.offsetReserved) == 0 else { throw .invalid(source, "reserved byte 7 is not zero") }
        let featureCount = Int(r.u32(at: ArtifactFormat.offsetFeatureCount))
        guard featureCount >= 1, featureCount <= ArtifactFormat.maxFeatures else {
            throw .invalid(source, "feature count must be 1...\(ArtifactFormat.maxFeatures), got \(featureCount)")
        }
        let threshold = r.f32(at: ArtifactFormat.offsetThreshold)
        let name = try r.paddedString(at: ArtifactFormat.offsetName, field: ArtifactFormat.nameField,
                                      length: Int(r.u16(at: ArtifactFormat.offsetNameLength)), what: "model name", source)
        let version = try r.paddedString(at: ArtifactFormat.offsetVersion, field: ArtifactFormat.versionField,
                                         length: Int(r.u16(at: ArtifactFormat.offsetVersionLength)), what: "version", source)
        r.position = ArtifactFormat.headerSize
        let end = ArtifactFormat.headerSize + parameterBytes
        let parameters: ModelParameters
        switch kind {
        case .logistic:
            guard parameterBytes == 4 * featureCount + 4 else {
                throw .invalid(source, "logistic parameters are \(parameterBytes) bytes, \(featureCount) features need \(4 * featureCount + 4)")
            }
            parameters = .logistic(weights: r.floats(featureCount), bias: r.f32())
        case .mlp:
            parameters = .mlp(layers: try decodeLayers(&r, end: end, source: source))
        case .treeEnsemble:
            throw .invalid(source, "kind 3 (tree ensemble) needs format version 2, the file says 1")
        }
        guard r.position == end else {
            throw .invalid(source, "parameter section declares \(parameterBytes) bytes, its layers use \(r.position - ArtifactFormat.headerSize)")
        }
        let bins = r.floats(ScoreBins.count)
        let artifact = Artifact(name: name, version: version, featureCount: featureCount, threshold: threshold,
                                parameters: parameters, referenceBins: bins)
        try artifact.validate(source: source)
        return artifact
    }

    /// Shapes first, each checked against what is left of the section, then the numbers.
    private static func decodeLayers(_ r: inout Cursor, end: Int, source: String) throws(ArtifactError) -> [DenseLayer] {
        guard end - r.position >= 4 else { throw .invalid(source, "mlp parameter section too short for its layer count") }
        let count = Int(r.u32())
        guard count >= 1, count <= ArtifactFormat.maxLayers else {
            throw .invalid(source, "mlp must have 1...\(ArtifactFormat.maxLayers) layers, got \(count)")
        }
        guard end - r.position >= 8 * count else { throw .invalid(source, "mlp parameter section too short for \(count) layer shapes") }
        var shapes: [(inputs: Int, outputs: Int)] = []
        var needed = 0
        for index in 0..<count {
            let inputs = Int(r.u32()), outputs = Int(r.u32())
            // Bounded before multiplying: no overflow, and the product is checked against the file.
            guard inputs >= 1, inputs <= ArtifactFormat.maxFeatures, outputs >= 1, outputs <= ArtifactFormat.maxFeatures else {
                throw .invalid(source, "layer \(index) shape \(outputs)x\(inputs) is out of range")
            }
            shapes.append((inputs, outputs))
            needed += 4 * (inputs * outputs + outputs)
        }
        guard needed == end - r.position else {
            throw .invalid(source, "mlp layer shapes need \(needed) bytes of weights and biases, the section has \(end - r.position)")
        }
        var layers: [DenseLayer] = []
        for shape in shapes {
            let weights = r.floats(shape.inputs * shape.outputs)
            let biases = r.floats(shape.outputs)
            layers.append(DenseLayer(inputs: shape.inputs, outputs: shape.outputs, weights: weights, biases: biases))
        }
        return layers
    }

    static func checkDigest(computed: Digest32, stored: Digest32, expected: Digest32, source: String) throws(ArtifactError) {
        guard computed == stored else {
            throw .corrupt(source, "checksum mismatch: content hashes to \(computed.hex), trailer says \(stored.hex)")
        }
        if !expected.isZero && expected != computed {
            throw .corrupt(source, "checksum \(computed.hex) is not the expected \(expected.hex)")
        }
    }

    static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        let table = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [table[Int($0 >> 4)], table[Int($0 & 15)]] }, as: UTF8.self)
    }
}

/// Little-endian reads from a byte array whose total length has already been validated; every
/// caller checks the remaining length before reading, so these only trap on a bug, never on input.
private struct Cursor {
    let bytes: [UInt8]
    var position = 0

    func u8(at offset: Int) -> UInt8 { bytes[offset] }
    func u16(at offset: Int) -> UInt16 { UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8 }
    func u32(at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << UInt32(8 * $1) }
    }
    func f32(at offset: Int) -> Float { Float(bitPattern: u32(at: offset)) }

    mutating func u32() -> UInt32 {
        defer { position += 4 }
        return u32(at: position)
    }
    mutating func f32() -> Float { Float(bitPattern: u32()) }
    mutating func floats(_ count: Int) -> [Float] {
        precondition(position + 4 * count <= bytes.count)
        let start = position
        position += 4 * count
        return bytes.withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * $0, as: UInt32.self))) }
        }
    }

    func paddedString(at offset: Int, field: Int, length: Int, what: String, _ source: String) throws(ArtifactError) -> String {
        guard length >= 1, length <= field else { throw .invalid(source, "\(what) length must be 1...\(field), got \(length)") }
        let raw = bytes[offset..<offset + length]
        guard bytes[offset + length..<offset + field].allSatisfy({ $0 == 0 }) else {
            throw .invalid(source, "\(what) padding is not zero")
        }
        guard !raw.contains(0), let text = String(validating: raw, as: UTF8.self) else {
            throw .invalid(source, "\(what) is not valid UTF-8")
        }
        return text
    }
}
