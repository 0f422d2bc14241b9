package io.torchlstm4j.fast;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.cpu.nativecpu.NDArray;
import org.nd4j.linalg.cpu.nativecpu.buffer.LongBuffer;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The shape information (shape, strides, order, dtype) of one array, to make more arrays like it on other memory
 * without building it again.
 *
 * <p>ND4J builds a native shape info for every array it creates, views included: about 8 us each on this
 * project's machine, as long as a small LSTM's whole step loop. The CPU backend's
 * {@code NDArray(DataBuffer, LongBuffer, long[])} constructor takes an existing one instead, which is what ND4J's
 * own arrays share too (its shape infos are cached constants). Arrays made here are indistinguishable from the
 * prototype's kind: same shape, strides, order, offset and view flag.
 */
final class ReusedShape {

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
    static ReusedShape of(INDArray prototype) {
        if (!(prototype instanceof NDArray) || !(prototype.shapeInfoDataBuffer() instanceof LongBuffer shapeInfo)) {
            return null;
        }
        return new ReusedShape(shapeInfo, prototype.shapeInfoJava(), prototype.offset(), prototype.data().length());
    }

    /** An array like the prototype on {@code buffer}'s memory, at the prototype's offset. */
    INDArray on(DataBuffer buffer) {
        DataBuffer data = offset == 0 && buffer.length() == dataLength ? buffer
                : Nd4j.createBuffer(buffer, offset, dataLength);
        return new NDArray(data, shapeInfo, javaShapeInfo);
    }
}
