package io.torchlstm4j.platform;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.common.util.ArrayUtil;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * The memory of one contiguous c-order ND4J array, as a native pointer (for BLAS) and as an NIO buffer (for bulk
 * copies to and from Java arrays), both starting at the array's first element.
 *
 * <p>Wraps the memory only: the array must stay reachable (and its workspace open) while this is used.
 */
public final class OffHeap {

    private final INDArray array;
    private final Pointer base;
    private final long length;
    /** NIO views of the memory, made at first use (most wrappers of a call never need them). */
    private volatile FloatBuffer floats;
    private volatile DoubleBuffer doubles;
    /** Pointers to element 0, made on first use and never repositioned (volatile: instances are shared by threads). */
    private volatile FloatPointer floatBase;
    private volatile DoublePointer doubleBase;

    public OffHeap(INDArray array) {
        if (!isContiguous(array)) {
            throw new IllegalStateException("internal: expected a contiguous c-order array, got shape "
                    + java.util.Arrays.toString(array.shape()) + " strides " + java.util.Arrays.toString(array.stride()));
        }
        long length = array.length();
        int elementSize = array.dataType().width();
        if (length * elementSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("an LSTM buffer of " + length + " " + array.dataType()
                    + " elements exceeds 2 GiB: use a smaller batch or shorter sequences");
        }
        this.array = array;
        this.length = length;
        this.base = array.data().addressPointer();
        if (base.position() != 0) {
            throw new IllegalStateException("internal: ND4J returned a pointer with position " + base.position());
        }
    }

    /** The memory as a native-order byte buffer, for the NIO views. */
    private ByteBuffer bytes() {
        long size = length * array.dataType().width();
        return new Pointer(base).capacity(size).limit(size).asByteBuffer().order(ByteOrder.nativeOrder());
    }

    /**
     * The native memory of a contiguous c-order array from its first element, for a bulk copy without the NIO buffers
     * of a wrapper.
     */
    static Pointer first(INDArray array) {
        if (!isContiguous(array)) {
            throw new IllegalStateException("internal: expected a contiguous c-order array, got shape "
                    + java.util.Arrays.toString(array.shape()) + " strides " + java.util.Arrays.toString(array.stride()));
        }
        Pointer first = array.data().addressPointer();
        if (first.position() != 0) {
            throw new IllegalStateException("internal: ND4J returned a pointer with position " + first.position());
        }
        return first;
    }

    /** True when the elements are densely laid out in c order (dimensions of size 1 may have any stride). */
    public static boolean isContiguous(INDArray array) {
        long[] shape = array.shape();
        long[] stride = array.stride();
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    /** The first elements of the memory as a c-order view of {@code shape}. */
    public INDArray view(long... shape) {
        long size = ArrayUtil.prodLong(shape);
        INDArray flat = array.reshape(array.length());
        return (size == flat.length() ? flat : flat.get(NDArrayIndex.interval(0, size))).reshape('c', shape);
    }

    /** The elements as floats (FLOAT arrays only); use absolute get/put, never the position. */
    public FloatBuffer floats() {
        FloatBuffer view = floats;
        if (view == null && array.dataType() == DataType.FLOAT) {
            view = bytes().asFloatBuffer(); // two threads may each make one: equal views, either may stay
            floats = view;
        }
        return view;
    }

    /** The elements as doubles (DOUBLE arrays only); use absolute get/put, never the position. */
    public DoubleBuffer doubles() {
        DoubleBuffer view = doubles;
        if (view == null && array.dataType() == DataType.DOUBLE) {
            view = bytes().asDoubleBuffer();
            doubles = view;
        }
        return view;
    }

    /**
     * The native address of element {@code offset} of a block of {@code rows} rows of {@code n} elements that
     * starts there, {@code stride} elements apart, after checking that the whole block lies inside this memory.
     *
     * @throws IllegalStateException when it does not (an internal error: the caller sized the buffers)
     */
    public long address(long offset, long rows, long stride, long n) {
        long last = offset + (rows - 1) * stride + n;
        if (offset < 0 || rows < 1 || n < 1 || stride < n && rows > 1 || last > length) {
            throw new IllegalStateException("internal: a block of " + rows + " rows of " + n + " elements, " + stride
                    + " apart, at element " + offset + " does not fit a buffer of " + length + " elements");
        }
        return base.address() + offset * array.dataType().width();
    }

    /**
     * A pointer to element {@code offset}, for a native call's argument only (never reposition it): a fresh one
     * elsewhere than at 0, so that concurrent users never share a position, and the same one at 0, where most
     * operands start (a one-step call would otherwise draw a few per GEMM).
     */
    public FloatPointer floatAt(long offset) {
        if (offset != 0) {
            return new FloatPointer(base).position(offset);
        }
        FloatPointer p = floatBase;
        if (p == null) {
            p = new FloatPointer(base);
            floatBase = p;
        }
        return p;
    }

    /** As {@link #floatAt}, for DOUBLE memory. */
    public DoublePointer doubleAt(long offset) {
        if (offset != 0) {
            return new DoublePointer(base).position(offset);
        }
        DoublePointer p = doubleBase;
        if (p == null) {
            p = new DoublePointer(base);
            doubleBase = p;
        }
        return p;
    }
}
