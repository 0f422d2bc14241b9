package io.torchlstm4j.verify;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.weights.Dl4jLstms;
import io.torchlstm4j.weights.ParityFixture;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Networks made of DL4J's own LSTM and Bidirectional(Mode.CONCAT, LSTM) layers, saved with ModelSerializer, holding
 * the weights of the PyTorch parity fixtures (tools/generate_fixtures.py, torch 1.13): their outputs are PyTorch's.
 */
class NetworkVerifierTest {

    private static final Path FIXTURES = Path.of("..", "app", "src", "test", "resources", "fixtures");

    @TempDir
    Path dir;

    private MultiLayerNetwork savedAndRestored(MultiLayerNetwork net) throws IOException {
        return ModelSerializer.restoreMultiLayerNetwork(Dl4jNetworks.save(net, dir.resolve("net.zip")).toFile(), false);
    }

    private static INDArray timeMajor(LstmConfig config, INDArray sequence) {
        return config.batchFirst() ? sequence.permute(1, 0, 2).dup() : sequence;
    }

    @ParameterizedTest
    @ValueSource(strings = {"bi_l2_nobias_f32", "bi_l2_batchfirst_f32", "bi_l2_nobias_batchfirst_f64", "bi_l1_f32",
            "bi_l3_f32", "uni_l1_f32", "uni_l1_nobias_f32", "uni_l2_f32", "uni_l2_f64", "long_uni_l1_h128_L50_f32"})
    void dl4jLayersHoldingAFixturesWeightsGivePyTorchsOutputAndFinalStates(String name) throws IOException {
        ParityFixture fixture = ParityFixture.read(FIXTURES.resolve(name + ".safetensors"));
        LstmConfig config = fixture.config();
        Dl4jLstms layers = Dl4jLstms.of(savedAndRestored(Dl4jNetworks.of(config, fixture.dataType())));
        layers.loadStateDict(fixture.stateDict(), name);
        LstmOutput pytorch = new LstmOutput(timeMajor(config, fixture.expected().output()), fixture.expected().hN(),
                fixture.expected().cN());

        NetworkVerifier.Result result = NetworkVerifier.verify(layers, timeMajor(config, fixture.input()), pytorch,
                "PyTorch", Tolerances.forward(fixture.dataType()));

        assertTrue(result.passed(), result::toString);
        int entries = config.numLayers() * config.numDirections();
        // bidirectional: h_n per entry, output; plain: also DL4J's own h and c per layer
        assertEquals(config.bidirectional() ? entries + 1 : 3 * entries + 1, result.checks().size(), result::toString);
        assertEquals(config.bidirectional(), result.notes().stream().anyMatch(n -> n.startsWith("c_n:")));
    }

    @Test
    void aSingleAlteredWeightIsSeenInTheBackwardDirectionOfItsLayer() throws IOException {
        ParityFixture fixture = ParityFixture.read(FIXTURES.resolve("bi_l2_nobias_f32.safetensors"));
        Map<String, INDArray> altered = new java.util.LinkedHashMap<>(fixture.stateDict());
        INDArray w = altered.get("weight_hh_l1_reverse").dup();
        w.putScalar(0, 0, w.getDouble(0, 0) + 0.5);
        altered.put("weight_hh_l1_reverse", w);
        Dl4jLstms layers = Dl4jLstms.of(Dl4jNetworks.of(fixture.config(), DataType.FLOAT));
        layers.loadStateDict(altered, "altered");

        NetworkVerifier.Result result = NetworkVerifier.verify(layers, fixture.input(), fixture.expected(), "PyTorch",
                1e-5);

        assertFalse(result.passed());
        for (CheckResult c : result.checks()) {
            boolean affected = c.layer() == 1 && c.direction() != 0;   // layer 1 backward, and the whole output
            assertEquals(!affected, c.passed(), c::toString);
        }
    }
}
