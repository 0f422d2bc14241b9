package io.torchlstm4j.core;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Which axis of a caller's sequence tensor is time (L), batch (N) and feature (F): resolved once where the tensor
 * enters (PyTorch's {@code batch_first} and unbatched input in the API, DL4J's NCW/NWC in a DL4J layer) and passed
 * down with the tensor, so that an engine reads and writes the caller's memory through its strides instead of
 * through chains of permuted views. Immutable; safe for concurrent use.
 *
 * @param timeAxis    the axis of L
 * @param batchAxis   the axis of N, or -1 for an unbatched tensor (N = 1, rank 2)
 * @param featureAxis the axis of F
 */
public record SequenceLayout(int timeAxis, int batchAxis, int featureAxis) {

    /** PyTorch's default (L, N, F). */
    public static final SequenceLayout SEQUENCE_FIRST = new SequenceLayout(0, 1, 2);
    /** PyTorch's {@code batch_first} (N, L, F), which is also DL4J's NWC. */
    public static final SequenceLayout BATCH_FIRST = new SequenceLayout(1, 0, 2);
    /** PyTorch's unbatched (L, F). */
    public static final SequenceLayout UNBATCHED = new SequenceLayout(0, -1, 1);
    /** DL4J's NCW (N, F, L). */
    public static final SequenceLayout NCW = new SequenceLayout(2, 0, 1);

    public SequenceLayout {
        int rank = batchAxis < 0 ? 2 : 3;
        int axes = (1 << timeAxis) | (1 << featureAxis) | (batchAxis < 0 ? 0 : 1 << batchAxis);
        if (timeAxis < 0 || featureAxis < 0 || batchAxis < -1 || axes != (1 << rank) - 1) {
            throw new IllegalArgumentException("a sequence layout names each axis of a rank-" + rank
                    + " tensor once: time " + timeAxis + ", batch " + batchAxis + ", feature " + featureAxis);
        }
    }

    /** PyTorch's layout for {@code batchFirst} and an input of {@code rank} 2 (unbatched) or 3. */
    public static SequenceLayout of(boolean batchFirst, int rank) {
        return rank == 2 ? UNBATCHED : batchFirst ? BATCH_FIRST : SEQUENCE_FIRST;
    }

    public boolean unbatched() {
        return batchAxis < 0;
    }

    public int rank() {
        return unbatched() ? 2 : 3;
    }

    /** L of a tensor in this layout. */
    public int steps(INDArray tensor) {
        return Math.toIntExact(tensor.size(timeAxis));
    }

    /** N of a tensor in this layout (1 when unbatched). */
    public int batch(INDArray tensor) {
        return unbatched() ? 1 : Math.toIntExact(tensor.size(batchAxis));
    }

    /** The shape of a tensor of L steps, N samples and F features in this layout. */
    public long[] shape(long steps, long batch, long features) {
        long[] shape = new long[rank()];
        shape[timeAxis] = steps;
        shape[featureAxis] = features;
        if (!unbatched()) {
            shape[batchAxis] = batch;
        }
        return shape;
    }

    /**
     * The strides of a tensor in this layout in the order (F, L, N), in elements (0 for N when unbatched): how to read
     * it as a feature-major {@code [F, L, N]} tensor.
     */
    public long[] featureMajorStrides(INDArray tensor) {
        long[] stride = tensor.stride();
        return new long[] {stride[featureAxis], stride[timeAxis], unbatched() ? 0 : stride[batchAxis]};
    }

    /**
     * A view in this layout of {@code featureMajor}, {@code [F, L, N]} (no copy): the same elements, the caller's axis
     * order.
     */
    public INDArray fromFeatureMajor(INDArray featureMajor) {
        if (unbatched()) {
            // (F, L, 1) read as (L, F) through its strides, on the same buffer object: a reshape wraps the memory in a
            // new view buffer, one more native object per call (the unbatched on-line call made one more than batch 1)
            return Nd4j.create(featureMajor.data(), new long[] {featureMajor.size(1), featureMajor.size(0)},
                    new long[] {featureMajor.stride(1), featureMajor.stride(0)}, 0, 'f');
        }
        int[] order = new int[3];
        order[featureAxis] = 0;
        order[timeAxis] = 1;
        order[batchAxis] = 2;
        return featureMajor.permute(order);
    }

    /** A view (L, N, F) of {@code tensor} in this layout (unbatched: N = 1). */
    public INDArray toSequenceFirst(INDArray tensor) {
        if (unbatched()) {
            return tensor.reshape(tensor.size(0), 1, tensor.size(1));
        }
        return tensor.permute(timeAxis, batchAxis, featureAxis);
    }

    /** A view in this layout of {@code sequenceFirst}, (L, N, F) (unbatched: N = 1, dropped). */
    public INDArray fromSequenceFirst(INDArray sequenceFirst) {
        if (unbatched()) {
            return sequenceFirst.reshape(sequenceFirst.size(0), sequenceFirst.size(2));
        }
        int[] order = new int[3];
        order[timeAxis] = 0;
        order[batchAxis] = 1;
        order[featureAxis] = 2;
        return sequenceFirst.permute(order);
    }
}
