package io.torchlstm4j.io;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads NumPy {@code .npz} files as {@code np.savez} and {@code np.savez_compressed} write them: a zip archive with
 * one {@code <name>.npy} entry per array.
 *
 * <p>Each {@code .npy} entry (format versions 1.0, 2.0 and 3.0) starts with the magic string, the version, the
 * header length and a Python dict literal {@code {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }}.
 * Supported dtypes: little-endian {@code '<f4'} (FLOAT), {@code '<f8'} (DOUBLE), {@code '<i8'} (LONG) and
 * {@code '<i4'} (INT), in C or Fortran order; the arrays come back in C order. Anything else (big-endian, bool,
 * float16, object arrays, structured dtypes, ...) is a {@link TensorFileException} naming the array and its dtype.
 * The data size declared by dtype and shape must match the bytes present exactly; data is read only as far as the
 * entry really holds it, so a lying header cannot size an allocation.
 *
 * <p>Safe for concurrent use: static methods that keep no state between calls.
 */
public final class Npz {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** numpy itself refuses headers above 10000 bytes by default; this bound is only a guard. */
    private static final long MAX_HEADER_BYTES = 1 << 20;
    private static final Map<String, DataType> SUPPORTED = Map.of(
            "<f4", DataType.FLOAT, "<f8", DataType.DOUBLE, "<i8", DataType.LONG, "<i4", DataType.INT);
    private static final Map<Character, String> KINDS = Map.of('b', "bool", 'i', "int", 'u', "uint", 'f', "float",
            'c', "complex", 'O', "object", 'U', "unicode string", 'S', "byte string", 'M', "datetime",
            'm', "timedelta");

    private Npz() {
    }

    /**
     * Every array of the archive, keyed by entry name without {@code .npy}, in the archive's order.
     *
     * <p>Bounded by {@link ReadLimits}: each entry's inflated size (from the zip directory and from its dtype and
     * shape, which must agree) is checked before it is inflated and enforced while it is, and so is the total over
     * the archive; the header's nesting depth is checked before it is parsed.
     *
     * @throws TensorFileException for anything that is not a valid, supported {@code .npz} within the limits
     */
    public static Map<String, INDArray> read(Path file) throws IOException {
        Map<String, INDArray> arrays = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            long total = 0;
            for (ZipEntry entry : entries(file, zip)) {
                if (!entry.getName().endsWith(".npy")) {
                    throw new TensorFileException(file, file + ": entry '" + ReadLimits.abbreviate(entry.getName(), 200)
                            + "' is not a .npy array (np.savez writes only <name>.npy entries)");
                }
                String name = entry.getName().substring(0, entry.getName().length() - 4);
                String where = file + ": array '" + ReadLimits.abbreviate(name, 200) + "'";
                if (arrays.containsKey(name)) {
                    throw new TensorFileException(file, where + " appears twice in the archive");
                }
                total = ReadLimits.addTotal(file, total, Math.max(0, entry.getSize()));
                try (InputStream in = zip.getInputStream(entry)) {
                    arrays.put(name, readNpy(file, where, entry.getSize(), in));
                } catch (TensorFileException e) {
                    throw e;
                } catch (IOException e) {
                    throw new TensorFileException(file, where + " cannot be decompressed: " + reason(e));
                }
            }
        } catch (TensorFileException e) {
            throw e;
        } catch (ZipException | EOFException e) {
            throw new TensorFileException(file, file + " is not a valid .npz (zip) file: " + reason(e));
        }
        return arrays;
    }

    /** The archive's entries; a name that is not valid UTF-8 is refused here, where the JDK decodes it. */
    private static List<ZipEntry> entries(Path file, ZipFile zip) throws TensorFileException {
        List<ZipEntry> entries = new ArrayList<>();
        try {
            for (Enumeration<? extends ZipEntry> it = zip.entries(); it.hasMoreElements(); ) {
                entries.add(it.nextElement());
            }
        } catch (IllegalArgumentException e) {
            throw new TensorFileException(file, file + " is not a valid .npz (zip) file: entry " + (entries.size() + 1)
                    + " has a name that is not valid UTF-8 (" + reason(e) + ")");
        }
        return entries;
    }

    /** A JDK exception's message, or what its type means when it has none. */
    private static String reason(Exception e) {
        if (e.getMessage() != null) return e.getMessage();
        return e instanceof EOFException ? "unexpected end of data" : e.getClass().getSimpleName();
    }

    private static INDArray readNpy(Path file, String where, long entrySize, InputStream in) throws IOException {
        byte[] prefix = in.readNBytes(8);
        if (prefix.length < 8 || !Arrays.equals(Arrays.copyOf(prefix, 6), MAGIC)) {
            throw new TensorFileException(file, where + " does not start with the .npy magic string \\x93NUMPY");
        }
        int major = prefix[6];
        if (major < 1 || major > 3) {
            throw new TensorFileException(file, where + " has .npy format version " + major + "." + prefix[7]
                    + " (1.0, 2.0 and 3.0 are supported)");
        }
        int lengthBytes = major == 1 ? 2 : 4;
        byte[] lengthField = in.readNBytes(lengthBytes);
        if (lengthField.length < lengthBytes) {
            throw new TensorFileException(file, where + " ends inside its .npy header length");
        }
        ByteBuffer lengthBuffer = ByteBuffer.wrap(Arrays.copyOf(lengthField, 8)).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = lengthBuffer.getLong();
        if (headerLength > MAX_HEADER_BYTES) {
            throw new TensorFileException(file, where + " declares a .npy header of " + headerLength
                    + " bytes, more than the " + MAX_HEADER_BYTES + " accepted");
        }
        byte[] headerBytes = in.readNBytes((int) headerLength);
        if (headerBytes.length < headerLength) {
            throw new TensorFileException(file, where + " declares a .npy header of " + headerLength + " bytes but "
                    + "only " + headerBytes.length + " follow");
        }
        String header = new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<String, Object> dict;
        try {
            dict = new DictLiteral(header, ReadLimits.maxNesting()).parse();
        } catch (IllegalArgumentException e) {
            throw new TensorFileException(file, where + " has a .npy header that is not a Python dict literal ("
                    + e.getMessage() + "): " + ReadLimits.abbreviate(header.strip(), 200));
        }
        if (!dict.keySet().equals(Set.of("descr", "fortran_order", "shape"))) {
            throw new TensorFileException(file, where + " has .npy header keys "
                    + ReadLimits.abbreviate(dict.keySet(), 200) + " but exactly [descr, fortran_order, shape] were "
                    + "expected");
        }
        DataType type = dataType(file, where, dict.get("descr"));
        if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
            throw new TensorFileException(file, where + " has fortran_order "
                    + ReadLimits.abbreviate(dict.get("fortran_order"), 100) + " but True or False was expected");
        }
        long[] shape = shape(file, where, dict.get("shape"));
        String descr = (String) dict.get("descr");
        int bytes = ReadLimits.tensorBytes(file, where, shape, TensorBytes.elementSize(type), "'" + descr + "'");
        // the zip directory's size of the entry must be what the header declares, checked before inflating
        long declared = prefix.length + lengthBytes + headerLength + bytes;
        if (entrySize >= 0 && entrySize != declared) {
            throw new TensorFileException(file, where + " has dtype '" + descr + "' and shape "
                    + Arrays.toString(shape) + ", which needs " + bytes + " bytes of data (a .npy entry of " + declared
                    + " bytes), but the zip directory says the entry holds " + entrySize + " bytes");
        }
        byte[] data = in.readNBytes(bytes);
        if (data.length < bytes) {
            throw new TensorFileException(file, where + " has dtype '" + descr + "' and shape "
                    + Arrays.toString(shape) + ", which needs " + bytes + " bytes of data, but only " + data.length
                    + " are present");
        }
        if (in.read() >= 0) {
            throw new TensorFileException(file, where + " has dtype '" + descr + "' and shape "
                    + Arrays.toString(shape) + ", which needs " + bytes + " bytes of data, but more are present");
        }
        return TensorBytes.toArray(data, type, shape, fortran ? 'f' : 'c');
    }

    private static DataType dataType(Path file, String where, Object descr) throws TensorFileException {
        if (!(descr instanceof String d)) {
            throw new TensorFileException(file, where + " has the structured dtype "
                    + ReadLimits.abbreviate(descr, 100) + ", which is not supported (supported: " + supported() + ")");
        }
        DataType type = SUPPORTED.get(d);
        if (type != null) {
            return type;
        }
        String kind = d.length() >= 2 ? KINDS.get(d.charAt(1)) : null;
        boolean bigEndian = d.startsWith(">");
        String bits = d.length() > 2 && "iufc".indexOf(d.charAt(1)) >= 0 && d.substring(2).matches("\\d{1,2}")
                ? String.valueOf(8 * Integer.parseInt(d.substring(2))) : "";
        String what = kind == null ? "dtype '" + ReadLimits.abbreviate(d, 100) + "'"
                : "dtype '" + d + "' (" + (bigEndian ? "big-endian " : "") + kind + bits
                + (d.charAt(1) == 'O' ? ": pickled Python objects, not numbers" : "") + ")";
        String hint = bigEndian ? "; save it little-endian, e.g. a.astype('<" + d.substring(1) + "')" : "";
        throw new TensorFileException(file, where + " has " + what + ", which is not supported (supported: "
                + supported() + ")" + hint);
    }

    private static long[] shape(Path file, String where, Object value) throws TensorFileException {
        if (value instanceof List<?> dims) {
            long[] shape = new long[dims.size()];
            boolean ok = true;
            for (int i = 0; i < shape.length && ok; i++) {
                ok = dims.get(i) instanceof Long d && d >= 0;
                shape[i] = ok ? (Long) dims.get(i) : -1;
            }
            if (ok) return shape;
        }
        throw new TensorFileException(file, where + " has shape " + ReadLimits.abbreviate(value, 100)
                + " but a tuple of non-negative integers was expected");
    }

    private static String supported() {
        return "'<f4', '<f8', '<i8', '<i4'";
    }

    /**
     * The subset of Python literals that .npy headers use: dicts, tuples, lists, strings, integers, True, False,
     * None. Tuples and lists become {@link List}, integers {@link Long}; anything else is an
     * {@link IllegalArgumentException} with its position. Nesting deeper than {@code maxDepth} is refused before
     * the recursion could exhaust the stack.
     */
    private static final class DictLiteral {
        private final String text;
        private final int maxDepth;
        private int pos;
        private int depth;

        DictLiteral(String text, int maxDepth) {
            this.text = text;
            this.maxDepth = maxDepth;
        }

        Map<String, Object> parse() {
            if (!(value() instanceof Map<?, ?> map)) {
                throw new IllegalArgumentException("it is not a dict");
            }
            skipSpace();
            if (pos != text.length()) {
                throw error("unexpected text after the dict");
            }
            Map<String, Object> result = new LinkedHashMap<>();
            map.forEach((k, v) -> result.put((String) k, v));
            return result;
        }

        private Object value() {
            skipSpace();
            if (pos >= text.length()) throw error("the text ends where a value was expected");
            char c = text.charAt(pos);
            if (c == '{' || c == '(' || c == '[') {
                if (depth == maxDepth) {
                    throw error("nesting deeper than " + maxDepth + " levels (" + ReadLimits.hint("maxNesting") + ")");
                }
                depth++;
                Object nested = c == '{' ? dict() : sequence(c == '(' ? ')' : ']');
                depth--;
                return nested;
            }
            if (c == '\'' || c == '"') return string();
            if (c == '-' || Character.isDigit(c)) return integer();
            for (String word : List.of("True", "False", "None")) {
                if (text.startsWith(word, pos)) {
                    pos += word.length();
                    return word.equals("None") ? null : Boolean.valueOf(word.equals("True"));
                }
            }
            throw error("unexpected character '" + c + "'");
        }

        private Map<String, Object> dict() {
            Map<String, Object> map = new LinkedHashMap<>();
            pos++;
            while (!closes('}')) {
                if (!(value() instanceof String key)) throw error("dict keys must be strings");
                if (map.containsKey(key)) throw error("duplicate key '" + key + "'");
                expect(':');
                map.put(key, value());
                if (!nextIs('}')) expect(',');
            }
            return map;
        }

        private List<Object> sequence(char close) {
            List<Object> items = new ArrayList<>();
            pos++;
            while (!closes(close)) {
                items.add(value());
                if (!nextIs(close)) expect(',');
            }
            return items;
        }

        /** Consumes {@code close} if it comes next. */
        private boolean closes(char close) {
            boolean next = nextIs(close);
            if (next) pos++;
            return next;
        }

        /** Whether {@code close} comes next (after white space); the text must not end before it. */
        private boolean nextIs(char close) {
            skipSpace();
            if (pos >= text.length()) throw error("the text ends before '" + close + "'");
            return text.charAt(pos) == close;
        }

        private void expect(char c) {
            skipSpace();
            if (pos >= text.length() || text.charAt(pos) != c) throw error("'" + c + "' expected");
            pos++;
        }

        private String string() {
            char quote = text.charAt(pos++);
            int end = text.indexOf(quote, pos);
            if (end < 0) throw error("unterminated string");
            String s = text.substring(pos, end);
            if (s.indexOf('\\') >= 0) throw error("escapes in strings are not supported");
            pos = end + 1;
            return s;
        }

        private Long integer() {
            int start = pos;
            if (text.charAt(pos) == '-') pos++;
            while (pos < text.length() && Character.isDigit(text.charAt(pos))) pos++;
            String digits = text.substring(start, pos);
            if (pos < text.length() && text.charAt(pos) == 'L') pos++;
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                throw error("integer " + digits + " out of range");
            }
        }

        private void skipSpace() {
            while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) pos++;
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException(what + " at character " + pos);
        }
    }
}
