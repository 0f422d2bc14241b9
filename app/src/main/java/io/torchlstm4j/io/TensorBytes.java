package io.torchlstm4j.io;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Little-endian bytes to and from ND4J arrays, for FLOAT, DOUBLE, LONG, INT and BOOL (reading), and the exact
 * widening of float16 and bfloat16 to float32. The callers have checked that the byte count is exactly the element
 * count times the element size.
 */
final class TensorBytes {

    /** The largest tensor, in bytes, that fits one Java array. */
    static final long MAX_BYTES = ReadLimits.MAX_ARRAY_BYTES;

    private TensorBytes() {
    }

    /** Bytes per element of the four supported types. */
    static int elementSize(DataType type) {
        return switch (type) {
            case FLOAT, INT -> 4;
            case DOUBLE, LONG -> 8;
            case BOOL -> 1;
            default -> throw new IllegalStateException("no byte layout for " + type);
        };
    }

    /**
     * A C-order array of {@code shape} from little-endian bytes laid out in {@code order} ('c' row-major,
     * 'f' column-major).
     */
    static INDArray toArray(byte[] bytes, DataType type, long[] shape, char order) {
        long count = bytes.length / elementSize(type);
        if (count == 0) {
            return Nd4j.create(type, shape);
        }
        // column-major data of shape s is row-major data of shape reverse(s), transposed
        long[] stored = order == 'f' ? reversed(shape) : shape;
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        INDArray array = switch (type) {
            case FLOAT -> {
                float[] values = new float[(int) count];
                buffer.asFloatBuffer().get(values);
                yield Nd4j.create(values, stored, 'c');
            }
            case DOUBLE -> {
                double[] values = new double[(int) count];
                buffer.asDoubleBuffer().get(values);
                yield Nd4j.create(values, stored, 'c');
            }
            case LONG -> {
                long[] values = new long[(int) count];
                buffer.asLongBuffer().get(values);
                yield Nd4j.create(values, stored, DataType.LONG);
            }
            case INT -> {
                int[] values = new int[(int) count];
                buffer.asIntBuffer().get(values);
                yield Nd4j.create(values, stored, DataType.INT);
            }
            case BOOL -> {
                boolean[] values = new boolean[(int) count];
                for (int i = 0; i < values.length; i++) values[i] = bytes[i] != 0;
                yield Nd4j.create(values, stored, DataType.BOOL);
            }
            default -> throw new IllegalStateException("no byte layout for " + type);
        };
        if (order == 'f' && shape.length > 1) {
            int[] axes = new int[shape.length];
            Arrays.setAll(axes, i -> shape.length - 1 - i);
            array = array.permute(axes).dup('c');
        }
        return array;
    }

    /** The array's elements in C order as little-endian bytes; the caller checked the size and type. */
    static byte[] toBytes(INDArray array) {
        DataType type = array.dataType();
        ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(array.length() * elementSize(type)))
                .order(ByteOrder.LITTLE_ENDIAN);
        if (array.length() == 0) {
            return buffer.array();
        }
        INDArray c = array.dup('c');
        switch (type) {
            case FLOAT -> buffer.asFloatBuffer().put(c.data().asFloat());
            case DOUBLE -> buffer.asDoubleBuffer().put(c.data().asDouble());
            case LONG -> buffer.asLongBuffer().put(c.data().asLong());
            case INT -> buffer.asIntBuffer().put(c.data().asInt());
            default -> throw new IllegalStateException("no byte layout for " + type);
        }
        return buffer.array();
    }

    /** The product of the dimensions, or -1 when it does not fit a long. The dimensions are non-negative. */
    static long elementCount(long[] shape) {
        if (Arrays.stream(shape).anyMatch(d -> d == 0)) {
            return 0;
        }
        long count = 1;
        for (long d : shape) {
            try {
                count = Math.multiplyExact(count, d);
            } catch (ArithmeticException overflow) {
                return -1;
            }
        }
        return count;
    }

    /**
     * The bits of the float32 equal to the IEEE half-precision value with these 16 bits (every one is exactly
     * representable); bits, not a float, so that a NaN keeps its payload as PyTorch's {@code .float()} does.
     */
    static int halfToFloatBits(int bits) {
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1f;
        int mantissa = bits & 0x3ff;
        if (exponent == 0x1f) {
            return sign | 0x7f800000 | mantissa << 13; // infinity, or NaN keeping its payload
        }
        if (exponent == 0) {
            // zero or subnormal, mantissa * 2^-24: exact in float32, and never a NaN
            return sign | Float.floatToRawIntBits(mantissa * 0x1p-24f);
        }
        return sign | (exponent + 112) << 23 | mantissa << 13;
    }

    /** Little-endian float16 (or bfloat16) bytes as the little-endian bytes of the equal float32 values. */
    static byte[] widenHalf(byte[] bytes, boolean bfloat16) {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = ByteBuffer.allocate(bytes.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        while (in.hasRemaining()) {
            short bits = in.getShort();
            out.putInt(bfloat16 ? bfloat16ToFloatBits(bits) : halfToFloatBits(bits));
        }
        return out.array();
    }

    /** The bits of the float32 equal to the bfloat16 value with these 16 bits: they are its upper half. */
    static int bfloat16ToFloatBits(int bits) {
        return (bits & 0xffff) << 16;
    }

    private static long[] reversed(long[] shape) {
        long[] r = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            r[i] = shape[shape.length - 1 - i];
        }
        return r;
    }
}
