package io.torchlstm4j;

import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Refuses, before anything is allocated, an LSTM or a call whose arrays could not be: sizes are computed with
 * overflow checks and compared with the off-heap memory ND4J may use (JavaCPP's {@code maxBytes}, which defaults
 * to {@code -Xmx} and is set with {@code -Dorg.bytedeco.javacpp.maxBytes}; its {@code maxPhysicalBytes} too when
 * set) and with the largest Java array. Stateless, safe for concurrent use.
 */
final class MemoryBounds {

    /** Elements of the largest Java array. */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private MemoryBounds() {
    }

    /** The product of {@code factors}, or -1 when it overflows a long. All factors are non-negative. */
    static long product(long... factors) {
        long p = 1;
        for (long f : factors) {
            try {
                p = Math.multiplyExact(p, f);
            } catch (ArithmeticException overflow) {
                return -1;
            }
        }
        return p;
    }

    /** The bytes ND4J may allocate off the heap. */
    static long offHeapLimit() {
        long limit = Long.MAX_VALUE;
        for (long l : new long[] {Pointer.maxBytes(), Pointer.maxPhysicalBytes()}) {
            if (l > 0) limit = Math.min(limit, l);
        }
        return limit;
    }

    /**
     * Refuses {@code elements} values of {@code type} (-1: overflowed) when they exceed the off-heap limit;
     * {@code what} says what they are and how they were counted (made only for the message: every call checks).
     */
    static void checkOffHeap(Supplier<String> what, long elements, DataType type) {
        long size = type.width();
        long bytes = elements < 0 ? -1 : product(elements, size);
        long limit = offHeapLimit();
        if (bytes < 0 || bytes > limit) {
            throw new IllegalArgumentException(what.get() + " = " + (elements < 0 ? "more than 2^63" : elements)
                    + " values, " + (bytes < 0 ? "more than 2^63" : String.valueOf(bytes)) + " bytes of " + type
                    + ", more than the " + limit + " bytes ND4J may allocate (JavaCPP maxBytes: raise -Xmx or set "
                    + "-Dorg.bytedeco.javacpp.maxBytes)");
        }
    }

    /** Refuses a parameter tensor of {@code shape} that one Java array cannot hold (the initialisation draws it). */
    static void checkArray(String name, long... shape) {
        long elements = product(shape);
        if (elements < 0 || elements > MAX_ARRAY) {
            throw new IllegalArgumentException(name + " would have shape " + Arrays.toString(shape) + " = "
                    + (elements < 0 ? "more than 2^63" : elements) + " values, more than one Java array holds ("
                    + MAX_ARRAY + ")");
        }
    }
}
