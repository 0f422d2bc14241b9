package io.torchlstm4j.examples;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.io.Safetensors;
import io.torchlstm4j.io.TensorFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;

import static io.torchlstm4j.io.TensorAssertions.resource;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's character-level language model ({@link CharLm}) against PyTorch's own run of it
 * (tools/make_char_lm.py, torch 1.13): the same greedy continuation, character for character, and every call's
 * logits within 1e-5.
 */
class CharLmExampleTest {

    private static final Path DIR = resource("char_lm");
    private static final double ATOL = 1e-5;

    /** Each file holds the same state_dict: torch.save's .pt and its safetensors and .npz copies. */
    static Stream<Arguments> filesAndEngines() {
        return Stream.of("char_lm.pt", "char_lm.safetensors", "char_lm.npz").flatMap(file ->
                Stream.of(Engine.values()).map(engine -> Arguments.of(file, engine)));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("filesAndEngines")
    void greedyContinuationAndLogitsAreTheOnesPyTorchGave(String file, Engine engine) throws IOException {
        TensorFile pytorch = Safetensors.read(DIR.resolve("greedy.safetensors"));
        String vocabulary = pytorch.metadata().get("vocabulary");
        String prompt = pytorch.metadata().get("prompt");
        String expected = pytorch.metadata().get("continuation");
        INDArray expectedLogits = pytorch.tensors().get("logits");
        // PyTorch's top two logits are apart by far more than the tolerance at every call, so argmax is decided
        assertTrue(pytorch.tensors().get("margin").minNumber().doubleValue() > 100 * ATOL);

        CharLm model = CharLm.load(DIR.resolve(file), engine);
        StringBuilder continuation = new StringBuilder();
        double maxDifference = 0;
        int call = 0;
        String pending = prompt;
        while (true) {
            INDArray logits = model.next(vocabulary.indexOf(pending.charAt(0)));
            pending = pending.substring(1);
            INDArray pytorchRow = expectedLogits.get(NDArrayIndex.point(call++), NDArrayIndex.all());
            assertArrayEquals(new long[] {1, vocabulary.length()}, logits.shape());
            maxDifference = Math.max(maxDifference, Transforms.abs(logits.reshape(pytorchRow.shape()).castTo(
                    DataType.DOUBLE).sub(pytorchRow.castTo(DataType.DOUBLE))).maxNumber().doubleValue());
            if (!pending.isEmpty()) continue;
            char next = vocabulary.charAt(logits.argMax(1).getInt(0));
            continuation.append(next);
            if (continuation.length() == expected.length()) break;
            pending = String.valueOf(next);
        }
        System.out.printf(Locale.ROOT, "%s on %s, %d calls%nPyTorch: %s%s%nJava:    %s%s%nmax |logit diff| %.3e%n",
                file, engine, call, prompt, expected, prompt, continuation, maxDifference);
        assertEquals(expectedLogits.size(0), call);
        assertEquals(expected, continuation.toString());
        assertTrue(maxDifference <= ATOL, "max |logit diff| " + maxDifference);
        assertEquals(expected, model.greedy(vocabulary, prompt, expected.length()));   // the README's call
    }
}
