package io.torchlstm4j.io;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Named tensors and string metadata, as a safetensors file holds them. Both maps keep the file's order and
 * cannot be modified (the arrays themselves are ND4J arrays and can).
 *
 * <p>Safe for concurrent use as a value: the record and its maps never change; the tensors are the reader's fresh
 * arrays.
 *
 * @param tensors  name to tensor, in the order of the file's header
 * @param metadata the header's {@code __metadata__}, empty when it has none
 */
public record TensorFile(Map<String, INDArray> tensors, Map<String, String> metadata) {

    /** Copies both maps, keeping their order. */
    public TensorFile {
        if (tensors == null || metadata == null) {
            throw new IllegalArgumentException("tensors and metadata are required (use an empty map for none), got "
                    + "tensors=" + tensors + ", metadata=" + metadata);
        }
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }
}
