package io.torchlstm4j;

import io.torchlstm4j.readme.FromPyTorch;
import io.torchlstm4j.weights.StateDicts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * README.md's Java example: its code block is the source of {@link FromPyTorch} (compared character for character),
 * and it runs on a state_dict that PyTorch saved ({@code weights/model_rnn_prefix.*}, written by
 * tools/make_weight_samples.py), printing the shapes the README shows and writing the weights back unchanged.
 */
class ReadmeExampleTest {

    private static final Path README = Path.of("..", "README.md");
    private static final Path SOURCE = Path.of("src", "test", "java", "io", "torchlstm4j", "readme", "FromPyTorch.java");
    private static final String HEADING = "## From your PyTorch model to Java";

    @TempDir
    Path work;

    @Test
    void theReadmesJavaBlockIsTheSourceOfTheExample() throws Exception {
        String source = Files.readString(SOURCE);
        String compared = source.substring(source.indexOf('\n', source.indexOf("// README.md")) + 1);
        assertEquals(compared, javaBlockAfter(Files.readString(README), HEADING),
                "README.md's Java example differs from " + SOURCE + ": change both");
    }

    @Test
    void theExampleRunsOnPyTorchWeightsInEveryFormat() throws Exception {
        for (String file : List.of("model_rnn_prefix.pt", "model_rnn_prefix.safetensors", "model_rnn_prefix.npz")) {
            Path weights = resource("/weights/" + file);
            Path back = work.resolve(file + ".back.safetensors");
            String printed = run(weights.toString(), back.toString());

            assertEquals("output [8, 10, 2]\nh_n [1, 8, 2]\nc_n [1, 8, 5]\n", printed);
            Map<String, INDArray> original = StateDicts.load(weights, "rnn.");
            Map<String, INDArray> saved = StateDicts.load(back, "rnn.");
            assertEquals(original.keySet(), saved.keySet());
            original.forEach((name, tensor) -> assertEquals(tensor, saved.get(name), name));
        }
    }

    @Test
    void theReadmeShowsWhatTheExamplePrints() throws Exception {
        assertTrue(Files.readString(README).contains("```\noutput [8, 10, 2]\nh_n [1, 8, 2]\nc_n [1, 8, 5]\n```"),
                "README.md should show the example's output");
    }

    /** The first ```java block after the heading, without its fences. */
    private static String javaBlockAfter(String markdown, String heading) {
        int at = markdown.indexOf(heading);
        assertTrue(at >= 0, "README.md has no heading " + heading);
        int start = markdown.indexOf("```java\n", at);
        assertTrue(start >= 0, "README.md has no ```java block after " + heading);
        start += "```java\n".length();
        return markdown.substring(start, markdown.indexOf("```\n", start));
    }

    private static String run(String... args) throws Exception {
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            FromPyTorch.main(args);
        } finally {
            System.setOut(stdout);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(ReadmeExampleTest.class.getResource(name).toURI());
    }
}
