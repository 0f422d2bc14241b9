package io.torchlstm4j.fuzz;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Format-blind mutations of a file's bytes, the kinds a corrupt download or an attacker produces: bit flips,
 * random bytes, insertions, deletions, truncation, duplicated ranges, large and negative integers written over
 * size and offset fields (as 1, 2, 4 or 8 bytes, either byte order), numbers in header text replaced by extreme
 * ones, deep bracket nesting spliced into text, non-UTF-8 bytes written into names, and splices of two inputs.
 * One call applies one to four of them. Deterministic for a given {@link Random}; not safe for concurrent use.
 */
public final class Mutator {

    /** Integers that break size arithmetic: zero, signs, the edges of int and long, 2^32 + 3 (3 as an int). */
    static final long[] INTERESTING = {0, 1, -1, 2, 255, 256, 65535, 65536, Integer.MAX_VALUE,
            Integer.MIN_VALUE, 0x80000000L, 0xFFFFFFFFL, 4294967299L, 1L << 30, 1L << 40, 1L << 62,
            Long.MAX_VALUE, Long.MIN_VALUE, -1_000_000};
    private static final String[] NUMBER_TEXT = {"-1", "0", "4294967299", "2147483648", "9223372036854775807",
            "9223372036854775808", "-9223372036854775809", "99999999999999999999999", "1e308", "1.5", "007",
            "100000000"};
    private static final int MAX_BYTES = 1 << 20;

    private final Random random;

    public Mutator(Random random) {
        this.random = random;
    }

    /** {@code seed} changed by one to four mutations; {@code other} is the partner for splices. */
    public byte[] mutate(byte[] seed, byte[] other) {
        byte[] bytes = seed;
        int rounds = 1 + random.nextInt(4);
        for (int i = 0; i < rounds; i++) {
            bytes = once(bytes, other);
            if (bytes.length > MAX_BYTES) {
                bytes = Arrays.copyOf(bytes, MAX_BYTES);
            }
        }
        return bytes;
    }

    private byte[] once(byte[] b, byte[] other) {
        if (b.length == 0) {
            return randomBytes(1 + random.nextInt(16));
        }
        return switch (random.nextInt(12)) {
            case 0 -> flipBits(b);
            case 1 -> setRandomBytes(b);
            case 2 -> insert(b, randomBytes(1 + random.nextInt(16)));
            case 3 -> delete(b);
            case 4 -> Arrays.copyOf(b, random.nextInt(b.length));
            case 5 -> duplicate(b);
            case 6, 7 -> spliceInteger(b);
            case 8 -> replaceNumberText(b);
            case 9 -> insert(b, nesting());
            case 10 -> nonUtf8Name(b);
            default -> crossover(b, other);
        };
    }

    private byte[] flipBits(byte[] b) {
        byte[] out = b.clone();
        int flips = 1 + random.nextInt(8);
        for (int i = 0; i < flips; i++) {
            out[random.nextInt(out.length)] ^= (byte) (1 << random.nextInt(8));
        }
        return out;
    }

    private byte[] setRandomBytes(byte[] b) {
        byte[] out = b.clone();
        int n = 1 + random.nextInt(4);
        for (int i = 0; i < n; i++) {
            out[random.nextInt(out.length)] = (byte) random.nextInt(256);
        }
        return out;
    }

    private byte[] insert(byte[] b, byte[] piece) {
        int at = random.nextInt(b.length + 1);
        byte[] out = new byte[b.length + piece.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(piece, 0, out, at, piece.length);
        System.arraycopy(b, at, out, at + piece.length, b.length - at);
        return out;
    }

    private byte[] delete(byte[] b) {
        int at = random.nextInt(b.length);
        int n = 1 + random.nextInt(Math.min(64, b.length - at));
        byte[] out = new byte[b.length - n];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(b, at + n, out, at, b.length - at - n);
        return out;
    }

    private byte[] duplicate(byte[] b) {
        int from = random.nextInt(b.length);
        int n = 1 + random.nextInt(Math.min(256, b.length - from));
        return insert(b, Arrays.copyOfRange(b, from, from + n));
    }

    /** An extreme integer over 1, 2, 4 or 8 bytes at a random offset, little- or big-endian. */
    private byte[] spliceInteger(byte[] b) {
        long value = INTERESTING[random.nextInt(INTERESTING.length)];
        if (random.nextInt(4) == 0) {
            value += random.nextInt(17) - 8;
        }
        int width = 1 << random.nextInt(4);
        if (b.length < width) {
            return b;
        }
        ByteBuffer buffer = ByteBuffer.allocate(8)
                .order(random.nextBoolean() ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN).putLong(value);
        byte[] le = buffer.array();
        byte[] field = buffer.order() == ByteOrder.LITTLE_ENDIAN ? Arrays.copyOf(le, width)
                : Arrays.copyOfRange(le, 8 - width, 8);
        byte[] out = b.clone();
        System.arraycopy(field, 0, out, random.nextInt(b.length - width + 1), width);
        return out;
    }

    /** A run of ASCII digits (a size in a text header) replaced by an extreme number. */
    private byte[] replaceNumberText(byte[] b) {
        List<int[]> runs = runs(b, c -> c >= '0' && c <= '9');
        if (runs.isEmpty()) {
            return spliceInteger(b);
        }
        int[] run = runs.get(random.nextInt(runs.size()));
        byte[] number = NUMBER_TEXT[random.nextInt(NUMBER_TEXT.length)].getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[b.length - (run[1] - run[0]) + number.length];
        System.arraycopy(b, 0, out, 0, run[0]);
        System.arraycopy(number, 0, out, run[0], number.length);
        System.arraycopy(b, run[1], out, run[0] + number.length, b.length - run[1]);
        return out;
    }

    /** Up to 10,000 opening brackets of one kind, some closed. */
    private byte[] nesting() {
        char open = "[{(".charAt(random.nextInt(3));
        char close = open == '[' ? ']' : open == '{' ? '}' : ')';
        int depth = 1 << (1 + random.nextInt(13));
        String text = String.valueOf(open).repeat(depth) + String.valueOf(close).repeat(random.nextInt(depth + 1));
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /** A byte of a run of letters (a name in a zip directory or a header) made a non-UTF-8 byte. */
    private byte[] nonUtf8Name(byte[] b) {
        List<int[]> runs = runs(b, c -> (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.');
        byte[] out = b.clone();
        int at = runs.isEmpty() ? random.nextInt(b.length) : pick(runs);
        out[at] = (byte) (0x80 + random.nextInt(0x80));
        return out;
    }

    private int pick(List<int[]> runs) {
        int[] run = runs.get(random.nextInt(runs.size()));
        return run[0] + random.nextInt(run[1] - run[0]);
    }

    private byte[] crossover(byte[] b, byte[] other) {
        if (other == null || other.length == 0) {
            return duplicate(b);
        }
        int cut = random.nextInt(b.length + 1);
        int from = random.nextInt(other.length);
        byte[] out = Arrays.copyOf(b, cut + other.length - from);
        System.arraycopy(other, from, out, cut, other.length - from);
        return out;
    }

    private byte[] randomBytes(int n) {
        byte[] out = new byte[n];
        random.nextBytes(out);
        return out;
    }

    private interface BytePredicate {
        boolean test(int c);
    }

    /** [start, end) of each maximal run of bytes matching {@code p}, for the first 64 KiB. */
    private static List<int[]> runs(byte[] b, BytePredicate p) {
        List<int[]> runs = new ArrayList<>();
        int limit = Math.min(b.length, 1 << 16);
        for (int i = 0; i < limit; ) {
            if (p.test(b[i] & 0xFF)) {
                int start = i;
                while (i < limit && p.test(b[i] & 0xFF)) i++;
                runs.add(new int[] {start, i});
            } else {
                i++;
            }
        }
        return runs;
    }
}
