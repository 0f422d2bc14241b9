package io.torchlstm4j.io;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.core.JsonParser;
import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.nd4j.shade.jackson.databind.DeserializationFeature;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes <a href="https://github.com/huggingface/safetensors">safetensors</a> files: F32, F64 and I64
 * tensors as ND4J FLOAT, DOUBLE and LONG arrays, plus the string map {@code __metadata__}. F16 and BF16 tensors are
 * read as FLOAT, exactly (every half value is a float32), said once per file in the log.
 *
 * <p>Layout: 8 bytes little-endian unsigned header length N, N bytes of UTF-8 JSON, then the data buffer. The
 * JSON maps each tensor name to {@code {"dtype": ..., "shape": [...], "data_offsets": [begin, end]}}, offsets
 * relative to the buffer, end exclusive, data in C order and little endian.
 *
 * <p>{@link #read} rejects, with a {@link TensorFileException} naming the file, the tensor and what is wrong: a
 * file shorter than 8 bytes; a header length past the end of the file (checked before anything is allocated);
 * a header that is not UTF-8, not JSON or not an object; a tensor entry without dtype, shape or data_offsets;
 * an unknown dtype; a negative dimension; a shape whose element or byte count overflows; offsets out of the data
 * buffer or with end before begin; a byte count other than dtype size times the element count; overlapping
 * tensors; and data buffer bytes that belong to no tensor. The last is the format's rule that the buffer is
 * fully indexed, enforced (not merely warned about) as the reference implementation does, since such bytes mean
 * the header and the data disagree. Known dtypes other than F32, F64, I64, F16 and BF16 (I32, BOOL, ...) are
 * reported as unsupported, all of them in one message.
 *
 * <p>{@link #write} pads the header with spaces to a multiple of 8 bytes, writes {@code __metadata__} first (when
 * not empty), then the tensors in the map's order, and replaces the file atomically ({@link AtomicFiles}).
 *
 * <p>Safe for concurrent use: static methods that keep no state between calls.
 */
public final class Safetensors {

    private static final Logger LOG = LoggerFactory.getLogger(Safetensors.class);
    private static final String METADATA = "__metadata__";
    /** The reference implementation's limit on the header size. */
    private static final long MAX_HEADER_BYTES = 100_000_000L;
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** The format's dtypes with their element sizes; {@code type} is null where this library does not read it. */
    private enum Dtype {
        BOOL(1, null), U8(1, null), I8(1, null), F8_E5M2(1, null), F8_E4M3(1, null), I16(2, null), U16(2, null),
        F16(2, DataType.FLOAT), BF16(2, DataType.FLOAT), I32(4, null), U32(4, null), F32(4, DataType.FLOAT), F64(8, DataType.DOUBLE),
        I64(8, DataType.LONG), U64(8, null);

        final int size;
        final DataType type;

        Dtype(int size, DataType type) {
            this.size = size;
            this.type = type;
        }

        static Dtype named(String name) {
            for (Dtype d : values()) {
                if (d.name().equals(name)) return d;
            }
            return null;
        }

        /** Read as FLOAT by widening each 16-bit value. */
        boolean half() {
            return this == F16 || this == BF16;
        }

        /** The dtype written for an ND4J type. */
        static Dtype of(DataType type) {
            for (Dtype d : values()) {
                if (d.type == type && !d.half()) return d;
            }
            return null;
        }
    }

    /** One tensor's header entry, checked against itself and the buffer length. */
    private record Entry(String name, Dtype dtype, long[] shape, long begin, long end) {
        String range() {
            return "[" + begin + ", " + end + ")";
        }
    }

    private Safetensors() {
    }

    /**
     * Reads every tensor and the metadata of a safetensors file, within {@link ReadLimits}: the header size and
     * nesting depth are checked before the header is read and parsed, each tensor's and the file's byte count
     * before any tensor is read.
     */
    public static TensorFile read(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw corrupt(file, "the file is " + size + " bytes long, shorter than the 8-byte header length "
                        + "that starts every safetensors file");
            }
            long headerLength = ByteBuffer.wrap(readFully(file, channel, 0, 8)).order(ByteOrder.LITTLE_ENDIAN)
                    .getLong();
            if (headerLength < 0 || headerLength > size - 8) {
                throw corrupt(file, "the header length " + Long.toUnsignedString(headerLength) + " points past the "
                        + "end of the file (" + size + " bytes, so at most " + (size - 8) + " header bytes)");
            }
            if (headerLength > ReadLimits.maxHeaderBytes()) {
                throw corrupt(file, "the header length " + headerLength + " is larger than the "
                        + ReadLimits.maxHeaderBytes() + " bytes accepted (the format's own limit is " + MAX_HEADER_BYTES
                        + "; " + ReadLimits.hint("maxHeaderBytes") + ")");
            }
            String json = utf8(file, readFully(file, channel, 8, (int) headerLength));
            long bufferStart = 8 + headerLength;
            long bufferLength = size - bufferStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = parseHeader(file, json, bufferLength, metadata);
            checkFullyIndexed(file, entries, bufferLength);
            checkSupported(file, entries);
            ReadLimits.addTotal(file, 0, bufferLength);
            Map<String, INDArray> tensors = new LinkedHashMap<>();
            List<String> widened = new ArrayList<>();
            for (Entry e : entries) {
                byte[] bytes = readFully(file, channel, bufferStart + e.begin(), (int) (e.end() - e.begin()));
                if (e.dtype().half()) {
                    bytes = TensorBytes.widenHalf(bytes, e.dtype() == Dtype.BF16);
                    widened.add(e.name() + " (" + e.dtype() + ")");
                }
                tensors.put(e.name(), TensorBytes.toArray(bytes, e.dtype().type, e.shape(), 'c'));
            }
            if (!widened.isEmpty()) {
                LOG.info("{}: {} F16/BF16 tensors read as float32, exactly (every half value is a float32): {}", file,
                        widened.size(), widened.size() > 10 ? widened.subList(0, 10) + " ..." : widened);
            }
            return new TensorFile(tensors, metadata);
        }
    }

    /** Writes {@code content} to {@code file}, replacing it atomically. */
    public static void write(Path file, TensorFile content) throws IOException {
        write(file, content.tensors(), content.metadata());
    }

    /**
     * Writes FLOAT, DOUBLE and LONG tensors (as F32, F64, I64) in the map's order and the metadata (null for none)
     * to {@code file}, replacing it atomically.
     *
     * @throws IllegalArgumentException naming every tensor that cannot be written (null, another data type, a
     *                                  reserved name), before anything is written
     */
    public static void write(Path file, Map<String, INDArray> tensors, Map<String, String> metadata)
            throws IOException {
        byte[] header = header(file, tensors, metadata == null ? Map.of() : metadata);
        AtomicFiles.write(file, out -> {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
            out.write(header);
            for (INDArray tensor : tensors.values()) {
                out.write(TensorBytes.toBytes(tensor));
            }
        });
    }

    private static byte[] header(Path file, Map<String, INDArray> tensors, Map<String, String> metadata)
            throws IOException {
        if (tensors == null) {
            throw new IllegalArgumentException("cannot write " + file + ": tensors is null");
        }
        List<String> problems = new ArrayList<>();
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = root.putObject(METADATA);
            metadata.forEach((k, v) -> {
                if (k == null || v == null) {
                    problems.add("metadata entry " + k + " = " + v + " is null");
                } else {
                    m.put(k, v);
                }
            });
        }
        long offset = 0;
        for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
            String name = e.getKey();
            INDArray tensor = e.getValue();
            if (name == null || name.equals(METADATA)) {
                problems.add("a tensor is named " + name + " (the format reserves " + METADATA + ")");
                continue;
            }
            if (tensor == null) {
                problems.add("tensor '" + name + "' is null");
                continue;
            }
            Dtype dtype = Dtype.of(tensor.dataType());
            if (dtype == null) {
                problems.add("tensor '" + name + "' has data type " + tensor.dataType()
                        + " (FLOAT, DOUBLE or LONG expected: F32, F64, I64)");
                continue;
            }
            long bytes = tensor.length() * dtype.size;
            if (bytes > TensorBytes.MAX_BYTES) {
                problems.add("tensor '" + name + "' is " + bytes + " bytes, more than one Java array holds ("
                        + TensorBytes.MAX_BYTES + ")");
                continue;
            }
            ObjectNode entry = root.putObject(name);
            entry.put("dtype", dtype.name());
            ArrayNode shape = entry.putArray("shape");
            Arrays.stream(tensor.shape()).forEach(shape::add);
            entry.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("cannot write " + file + ": " + String.join("; ", problems));
        }
        byte[] json = JSON.writeValueAsBytes(root);
        byte[] padded = Arrays.copyOf(json, (json.length + 7) / 8 * 8);
        Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        return padded;
    }

    private static List<Entry> parseHeader(Path file, String json, long bufferLength, Map<String, String> metadata)
            throws TensorFileException {
        ReadLimits.TextShape text = ReadLimits.measure(json, "[{", "]}", true);
        if (text.depth() > ReadLimits.maxNesting()) {
            throw corrupt(file, "the header nests " + text.depth() + " levels deep, more than the "
                    + ReadLimits.maxNesting() + " accepted (" + ReadLimits.hint("maxNesting") + ")");
        }
        if (text.longestNumber() > ReadLimits.MAX_NUMBER_CHARS) {
            throw corrupt(file, "the header has a number of " + text.longestNumber() + " characters, more than the "
                    + ReadLimits.MAX_NUMBER_CHARS + " accepted");
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw corrupt(file, "the header is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw corrupt(file, "the header is " + describe(root) + ", not a JSON object");
        }
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals(METADATA)) {
                parseMetadata(file, field.getValue(), metadata);
            } else {
                entries.add(parseEntry(file, field.getKey(), field.getValue(), bufferLength));
            }
        }
        return entries;
    }

    private static void parseMetadata(Path file, JsonNode node, Map<String, String> metadata)
            throws TensorFileException {
        if (!node.isObject()) {
            throw corrupt(file, METADATA + " is " + describe(node) + ", not an object of strings");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw corrupt(file, METADATA + " must map strings to strings, but \""
                        + ReadLimits.abbreviate(e.getKey(), 100) + "\" is " + ReadLimits.abbreviate(e.getValue(), 100));
            }
            metadata.put(e.getKey(), e.getValue().asText());
        }
    }

    private static Entry parseEntry(Path file, String name, JsonNode node, long bufferLength)
            throws TensorFileException {
        String tensor = "tensor '" + ReadLimits.abbreviate(name, 200) + "'";
        if (!node.isObject()) {
            throw corrupt(file, tensor + " is " + describe(node) + ", not an object with dtype, shape and "
                    + "data_offsets");
        }
        List<String> missing = new ArrayList<>();
        for (String key : List.of("dtype", "shape", "data_offsets")) {
            if (node.get(key) == null) missing.add(key);
        }
        if (!missing.isEmpty()) {
            throw corrupt(file, tensor + " has no " + String.join(", no ", missing));
        }
        JsonNode dtypeNode = node.get("dtype");
        Dtype dtype = dtypeNode.isTextual() ? Dtype.named(dtypeNode.asText()) : null;
        if (dtype == null) {
            throw corrupt(file, tensor + " has the unknown dtype " + ReadLimits.abbreviate(dtypeNode, 100)
                    + " (safetensors dtypes: " + Arrays.toString(Dtype.values()) + ")");
        }
        long[] shape = integers(file, tensor + " shape", node.get("shape"));
        if (shape.length > ReadLimits.MAX_RANK) {
            throw corrupt(file, tensor + " has rank " + shape.length + " but at most " + ReadLimits.MAX_RANK
                    + " dimensions are supported (ND4J's limit)");
        }
        for (long d : shape) {
            if (d < 0) {
                throw corrupt(file, tensor + " has the negative dimension " + d + " in shape "
                        + Arrays.toString(shape));
            }
        }
        long count = TensorBytes.elementCount(shape);
        long bytes = count < 0 || count > Long.MAX_VALUE / dtype.size ? -1 : count * dtype.size;
        if (bytes < 0) {
            throw corrupt(file, tensor + " has shape " + Arrays.toString(shape) + ", whose " + dtype + " byte count "
                    + "overflows a 64-bit integer");
        }
        long[] offsets = integers(file, tensor + " data_offsets", node.get("data_offsets"));
        if (offsets.length != 2 || offsets[0] < 0 || offsets[1] < offsets[0]) {
            throw corrupt(file, tensor + " has data_offsets " + Arrays.toString(offsets) + " but [begin, end] with "
                    + "0 <= begin <= end was expected");
        }
        if (offsets[1] > bufferLength) {
            throw corrupt(file, tensor + " has data_offsets " + Arrays.toString(offsets) + ", out of the data buffer "
                    + "of " + bufferLength + " bytes");
        }
        if (offsets[1] - offsets[0] != bytes) {
            throw corrupt(file, tensor + " has data_offsets " + Arrays.toString(offsets) + ", which is "
                    + (offsets[1] - offsets[0]) + " bytes, but dtype " + dtype + " x shape " + Arrays.toString(shape)
                    + " needs " + bytes + " bytes");
        }
        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] integers(Path file, String what, JsonNode node) throws TensorFileException {
        if (node.isArray()) {
            long[] values = new long[node.size()];
            boolean ok = true;
            for (int i = 0; i < values.length && ok; i++) {
                JsonNode v = node.get(i);
                ok = v.isIntegralNumber() && v.canConvertToLong();
                values[i] = v.asLong();
            }
            if (ok) return values;
        }
        throw corrupt(file, what + " is " + ReadLimits.abbreviate(node, 100)
                + " but an array of 64-bit integers was expected");
    }

    /** Every byte of the buffer belongs to exactly one tensor: sorted by offsets, each begins where the last ended. */
    private static void checkFullyIndexed(Path file, List<Entry> entries, long bufferLength)
            throws TensorFileException {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long position = 0;
        Entry previous = null;
        for (Entry e : sorted) {
            if (e.begin() < position) {
                throw corrupt(file, "tensors '" + previous.name() + "' " + previous.range() + " and '" + e.name()
                        + "' " + e.range() + " overlap in the data buffer");
            }
            if (e.begin() > position) {
                throw corrupt(file, "bytes [" + position + ", " + e.begin() + ") of the data buffer are not covered "
                        + "by any tensor (the format requires every byte to be indexed)");
            }
            position = e.end();
            previous = e;
        }
        if (position < bufferLength) {
            throw corrupt(file, "bytes [" + position + ", " + bufferLength + ") at the end of the data buffer are "
                    + "not covered by any tensor (the format requires every byte to be indexed)");
        }
    }

    private static void checkSupported(Path file, List<Entry> entries) throws TensorFileException {
        List<String> problems = new ArrayList<>();
        for (Entry e : entries) {
            if (e.dtype().type == null) {
                problems.add("tensor '" + e.name() + "' has dtype " + e.dtype());
            } else if ((e.end() - e.begin()) / e.dtype().size * TensorBytes.elementSize(e.dtype().type)
                    > ReadLimits.maxTensorBytes()) {
                // as read: F16/BF16 widen to float32, twice their size in the file
                problems.add("tensor '" + e.name() + "' is " + (e.end() - e.begin()) + " bytes of " + e.dtype()
                        + ", more than the " + ReadLimits.maxTensorBytes() + " accepted as " + e.dtype().type + " ("
                        + ReadLimits.hint("maxTensorBytes") + ")");
            }
        }
        if (!problems.isEmpty()) {
            throw new TensorFileException(file, file + ": unsupported: " + String.join(", ", problems)
                    + " (this library reads F32, F64, I64, F16 and BF16)");
        }
    }

    private static byte[] readFully(Path file, FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw corrupt(file, "the file ended at byte " + (position + buffer.position()) + " while "
                        + length + " bytes from byte " + position + " were being read (did it change?)");
            }
        }
        return buffer.array();
    }

    private static String utf8(Path file, byte[] bytes) throws TensorFileException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw corrupt(file, "the header is not valid UTF-8 (" + e + ")");
        }
    }

    private static String describe(JsonNode node) {
        if (node == null || node.isMissingNode()) return "empty";
        return "a JSON " + node.getNodeType().name().toLowerCase();
    }

    private static TensorFileException corrupt(Path file, String what) {
        return new TensorFileException(file, file + " is not a valid safetensors file: " + what);
    }
}
