package io.torchlstm4j.io;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * The bounds every reader of this library checks before it does the work a file asks for, so that a hostile or
 * corrupt file is refused with a {@link TensorFileException} instead of exhausting memory, the stack or time.
 *
 * <table>
 * <caption>Limits and the system properties that raise them</caption>
 * <tr><th>system property</th><th>default</th><th>bounds</th></tr>
 * <tr><td>{@code torchlstm4j.io.maxTensorBytes}</td><td>an eighth of the maximum heap
 *     ({@code Runtime.maxMemory() / 8}), at most 2^31 - 9</td><td>the bytes of one tensor, from its declared
 *     dtype and shape, before it is read or inflated</td></tr>
 * <tr><td>{@code torchlstm4j.io.maxTotalBytes}</td><td>half the maximum heap</td><td>the bytes of all tensors of
 *     one file together</td></tr>
 * <tr><td>{@code torchlstm4j.io.maxHeaderBytes}</td><td>min(100,000,000, max heap / 32)</td><td>the bytes
 *     of a safetensors JSON header, before it is read</td></tr>
 * <tr><td>{@code torchlstm4j.io.maxNesting}</td><td>64</td><td>the nesting depth of a header (JSON, Python
 *     literal), checked without recursion; numbers in a header are at most 100 characters long</td></tr>
 * </table>
 * The defaults follow the heap because every tensor is read into a Java array before ND4J copies it; a larger
 * {@code -Xmx} raises them, and so does setting a property (a byte count, e.g.
 * {@code -Dtorchlstm4j.io.maxTensorBytes=2000000000}). Ranks above {@value #MAX_RANK} (ND4J's limit) are always
 * refused. Values are read at each call, so a property set at run time applies to the next read.
 *
 * <p>Safe for concurrent use (stateless).
 */
public final class ReadLimits {

    /** The highest rank an ND4J array can have. */
    public static final int MAX_RANK = 32;
    /** The largest tensor, in bytes, that fits one Java array. */
    public static final long MAX_ARRAY_BYTES = Integer.MAX_VALUE - 8;

    /** The longest number accepted in a header text, in characters (a 64-bit integer has at most 20). */
    static final int MAX_NUMBER_CHARS = 100;

    private static final String PREFIX = "torchlstm4j.io.";

    private ReadLimits() {
    }

    /** Bytes of one tensor: {@code torchlstm4j.io.maxTensorBytes}, default min(2^31 - 9, max heap / 8). */
    public static long maxTensorBytes() {
        return Math.min(MAX_ARRAY_BYTES, property("maxTensorBytes", Runtime.getRuntime().maxMemory() / 8));
    }

    /** Bytes of all tensors of one file: {@code torchlstm4j.io.maxTotalBytes}, default max heap / 2. */
    public static long maxTotalBytes() {
        return property("maxTotalBytes", Runtime.getRuntime().maxMemory() / 2);
    }

    /**
     * Bytes of a text header (safetensors' JSON): {@code torchlstm4j.io.maxHeaderBytes}, default
     * min(100,000,000 (the format's own limit), max heap / 32), since a parsed header takes several times its size.
     */
    public static long maxHeaderBytes() {
        return Math.min(MAX_ARRAY_BYTES, property("maxHeaderBytes",
                Math.min(100_000_000L, Runtime.getRuntime().maxMemory() / 32)));
    }

    /** Nesting depth of a header: {@code torchlstm4j.io.maxNesting}, default 64. */
    public static int maxNesting() {
        return (int) Math.min(Integer.MAX_VALUE, property("maxNesting", 64));
    }

    /**
     * The byte count of a tensor of {@code shape} with {@code elementSize}-byte elements, refused (naming the file
     * and {@code what}) when its rank exceeds ND4J's, when a dimension is negative, when the count overflows, or
     * when it is above {@link #maxTensorBytes()}.
     */
    public static int tensorBytes(Path file, String what, long[] shape, int elementSize, String dtype)
            throws TensorFileException {
        if (shape.length > MAX_RANK) {
            throw new TensorFileException(file, what + " has rank " + shape.length + " but at most " + MAX_RANK
                    + " dimensions are supported (ND4J's limit)");
        }
        for (long d : shape) {
            if (d < 0) {
                throw new TensorFileException(file, what + " has the negative dimension " + d + " in shape "
                        + Arrays.toString(shape));
            }
        }
        long bytes = Arrays.stream(shape).anyMatch(d -> d == 0) ? 0 : elementSize;
        for (int i = 0; i < shape.length && bytes > 0; i++) {
            bytes = multiplyOrMinusOne(bytes, shape[i]);
        }
        long limit = maxTensorBytes();
        if (bytes < 0 || bytes > limit) {
            throw new TensorFileException(file, what + " has dtype " + dtype + " and shape " + Arrays.toString(shape)
                    + ", which needs " + (bytes < 0 ? "more than 2^63" : String.valueOf(bytes)) + " bytes, more than "
                    + "the " + limit + " accepted (" + hint("maxTensorBytes") + ")");
        }
        return (int) bytes;
    }

    /** {@code total} plus {@code bytes}, refused when the sum is above {@link #maxTotalBytes()}. */
    public static long addTotal(Path file, long total, long bytes) throws TensorFileException {
        long limit = maxTotalBytes();
        if (bytes > limit - total) {
            throw new TensorFileException(file, file + " holds more than " + limit + " bytes of tensors in all "
                    + "(" + total + " read and " + bytes + " more declared; " + hint("maxTotalBytes") + ")");
        }
        return total + bytes;
    }

    /** How to raise the limit {@code name}: its property, or a larger heap for the limits that follow the heap. */
    static String hint(String name) {
        return (name.equals("maxNesting") ? "set -D" : "raise -Xmx or set -D") + PREFIX + name;
    }

    /** The deepest bracket nesting and the longest run of number characters of a header text. */
    record TextShape(int depth, int longestNumber) {
    }

    /**
     * Measures {@code text} without recursion: the deepest nesting of the brackets {@code open}/{@code close} and
     * the longest run of characters of a number ({@code 0-9 + - . e E}), both outside quoted strings. With
     * {@code json}, strings are double-quoted with backslash escapes; else single- or double-quoted without.
     */
    static TextShape measure(String text, String open, String close, boolean json) {
        int depth = 0;
        int maxDepth = 0;
        int number = 0;
        int maxNumber = 0;
        char quote = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean inNumber = false;
            if (quote != 0) {
                if (json && c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"' || (!json && c == '\'')) {
                quote = c;
            } else if (open.indexOf(c) >= 0) {
                maxDepth = Math.max(maxDepth, ++depth);
            } else if (close.indexOf(c) >= 0) {
                depth--;
            } else {
                inNumber = (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E';
            }
            number = inNumber ? number + 1 : 0;
            maxNumber = Math.max(maxNumber, number);
        }
        return new TextShape(maxDepth, maxNumber);
    }

    /** At most {@code max} characters of {@code value}'s text, for messages about values of any size. */
    static String abbreviate(Object value, int max) {
        String s = String.valueOf(value);
        return s.length() <= max ? s : s.substring(0, max) + "... (" + s.length() + " characters)";
    }

    private static long multiplyOrMinusOne(long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException overflow) {
            return -1;
        }
    }

    private static long property(String name, long fallback) {
        String value = System.getProperty(PREFIX + name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            long parsed = Long.parseLong(value.strip());
            if (parsed > 0) return parsed;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("system property " + PREFIX + name + " is '" + value
                + "' but a positive whole number was expected");
    }
}
