package io.torchlstm4j.io;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * PyTorch's tensor dtypes as checkpoints name them (the storage type of a persistent id, the dtype globals), their
 * element sizes, and the ND4J type each is read as: float16 and bfloat16 become FLOAT (exactly: every half value
 * is a float32), the others keep their type; those with no reader type are refused when a tensor of them is read.
 */
enum TorchDtype {
    FLOAT32("float32", "FloatStorage", 4, DataType.FLOAT),
    FLOAT64("float64", "DoubleStorage", 8, DataType.DOUBLE),
    FLOAT16("float16", "HalfStorage", 2, DataType.FLOAT),
    BFLOAT16("bfloat16", "BFloat16Storage", 2, DataType.FLOAT),
    INT64("int64", "LongStorage", 8, DataType.LONG),
    INT32("int32", "IntStorage", 4, DataType.INT),
    BOOL("bool", "BoolStorage", 1, DataType.BOOL),
    INT16("int16", "ShortStorage", 2, null),
    INT8("int8", "CharStorage", 1, null),
    UINT8("uint8", "ByteStorage", 1, null),
    COMPLEX64("complex64", "ComplexFloatStorage", 8, null),
    COMPLEX128("complex128", "ComplexDoubleStorage", 16, null);

    private final String torchName;
    private final String storageType;
    private final int size;
    private final DataType readAs;

    TorchDtype(String torchName, String storageType, int size, DataType readAs) {
        this.torchName = torchName;
        this.storageType = storageType;
        this.size = size;
        this.readAs = readAs;
    }

    /** The dtype's name after {@code torch.}, e.g. float32. */
    String torchName() {
        return torchName;
    }

    /** The legacy storage class after {@code torch.}, e.g. FloatStorage. */
    String storageType() {
        return storageType;
    }

    int size() {
        return size;
    }

    /** The ND4J type a tensor of this dtype is read as, or null when it is not read. */
    DataType readAs() {
        return readAs;
    }

    /** Whether reading converts (float16 and bfloat16 to float32). */
    boolean converted() {
        return this == FLOAT16 || this == BFLOAT16;
    }

    /** The dtype whose storage class is {@code storageType}, or null. */
    static TorchDtype ofStorageType(String storageType) {
        for (TorchDtype d : values()) {
            if (d.storageType.equals(storageType)) return d;
        }
        return null;
    }
}
