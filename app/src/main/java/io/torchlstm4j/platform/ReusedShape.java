package io.torchlstm4j.platform;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.cpu.nativecpu.NDArray;
import org.nd4j.linalg.cpu.nativecpu.buffer.LongBuffer;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The shape information (shape, strides, order, dtype) of one array, to make more arrays like it on other memory
 * without building it again.
 *
 * <p>ND4J builds a native shape info for every array it creates, views included: each costs about as
 * much as a small LSTM's whole step loop (figures in docs/design.md). The CPU backend's
 * {@code NDArray(DataBuffer, LongBuffer, long[])} constructor takes an existing one instead, which is what ND4J's
 * own arrays share too (its shape infos are cached constants). Arrays made here are indistinguishable from the
 * prototype's kind: same shape, strides, order, offset and view flag.
 *
 * <p>A {@code ReusedShape} is immutable and safe for concurrent use; a {@link Views} cache is not (one per kernel or
 * per call's scratch).
 */
public final class ReusedShape {

    private final LongBuffer shapeInfo;
    private final long[] javaShapeInfo;
    private final long offset;
    private final long dataLength;

    private ReusedShape(LongBuffer shapeInfo, long[] javaShapeInfo, long offset, long dataLength) {
        this.shapeInfo = shapeInfo;
        this.javaShapeInfo = javaShapeInfo;
        this.offset = offset;
        this.dataLength = dataLength;
    }

    /**
     * The shape information of {@code prototype}, a view at some offset of a buffer; null when the backend is not
     * ND4J's CPU backend (then arrays must be made the usual way).
     */
    public static ReusedShape of(INDArray prototype) {
        if (!(prototype instanceof NDArray) || !(prototype.shapeInfoDataBuffer() instanceof LongBuffer shapeInfo)) {
            return null;
        }
        return new ReusedShape(shapeInfo, prototype.shapeInfoJava(), prototype.offset(), prototype.data().length());
    }

    /**
     * An array like the prototype on {@code buffer}'s memory, at the prototype's offset: for a prototype that is a
     * view at some offset of a larger buffer, {@code buffer} is another such larger buffer.
     */
    public INDArray on(DataBuffer buffer) {
        return wrap(offset == 0 && buffer.length() == dataLength ? buffer : Nd4j.createBuffer(buffer, offset, dataLength));
    }

    /**
     * An array like the prototype on {@code data}, a buffer like the prototype's own {@code data()}. The native shape
     * info is shared (ND4J shares its cached ones the same way); the Java copy is the array's own.
     */
    public INDArray wrap(DataBuffer data) {
        return new NDArray(data, shapeInfo, javaShapeInfo.clone());
    }

    /**
     * The views one fixed function makes of its sources (e.g. a permutation), reused per kind of source: sources
     * with the same shape info, offset and buffer length get views with the same shape info. Keeps the last few
     * kinds.
     */
    public static final class Views {

        private static final int KINDS = 8;

        private record Kind(long[] sourceShapeInfo, long offset, long dataLength, ReusedShape view) {
        }

        private final UnaryOperator<INDArray> make;
        private final List<Kind> kinds = new ArrayList<>();

        public Views(UnaryOperator<INDArray> make) {
            this.make = make;
        }

        /** {@code make.apply(source)}, or an array indistinguishable from it made from a reused shape info. */
        public INDArray of(INDArray source) {
            long[] info = source.shapeInfoJava();
            for (Kind kind : kinds) {
                if (kind.offset == source.offset() && kind.dataLength == source.data().length()
                        && Arrays.equals(kind.sourceShapeInfo, info)) {
                    return kind.view.wrap(source.data());
                }
            }
            INDArray view = make.apply(source);
            ReusedShape shape = sameMemory(view.data(), source.data()) ? ReusedShape.of(view) : null;
            if (shape != null) {
                if (kinds.size() == KINDS) {
                    kinds.remove(0);
                }
                kinds.add(new Kind(info.clone(), source.offset(), source.data().length(), shape));
            }
            return view;
        }

        /**
         * True when two buffers are the same memory: the same object, or two views of it with the same start and
         * length (ND4J's reshape of a view at an offset wraps the memory in a new buffer object).
         */
        private static boolean sameMemory(DataBuffer a, DataBuffer b) {
            return a == b || a.dataType() == b.dataType() && a.length() == b.length()
                    && a.addressPointer().address() == b.addressPointer().address();
        }
    }
}
