package io.torchlstm4j;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import io.torchlstm4j.weights.ParityFixture;
import io.torchlstm4j.weights.StateDicts;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.torchlstm4j.NumericAssertions.assertClose;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Weight exchange changes no number: a PyTorch state_dict imported, exported to safetensors and imported again
 * gives the same DL4J parameters and the same outputs, bit for bit; and a Java-initialised LSTM exported with its
 * outputs can be checked in PyTorch by {@code tools/check_export.py}.
 */
class RoundTripTest {

    /** Where {@link #javaExportForPyTorchCheck} leaves its files for {@code tools/check_export.py}. */
    static final Path EXPORT_DIR = Path.of("target", "export-check");

    static List<Object[]> fixturesAndEngines() {
        List<Object[]> cases = new ArrayList<>();
        for (String name : ParityTest.fixtureNames()) {
            boolean proj = name.startsWith("proj_");
            for (Engine engine : Engine.values()) {
                if (!(proj && engine == Engine.REFERENCE)) {
                    cases.add(new Object[] {name, engine});
                }
            }
        }
        return cases;
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("fixturesAndEngines")
    void importExportImportChangesNoNumber(String name, Engine engine, @TempDir Path dir) throws IOException {
        ParityFixture f = ParityTest.fixture(name);
        String context = name + " on " + engine;
        TorchLstm first = TorchLstm.fromStateDict(f.config(), engine, f.stateDict()).eval();
        Map<String, INDArray> exported = first.stateDict();
        Path file = dir.resolve("exported.safetensors");
        StateDicts.save(file, exported, StateDicts.configMetadata(f.config()), "rnn.");

        Map<String, INDArray> loaded = StateDicts.load(file, "rnn.");
        TorchLstm second = TorchLstm.fromStateDict(f.config(), engine, loaded).eval();

        List<Executable> checks = new ArrayList<>();
        checks.add(() -> assertEquals(f.stateDict().keySet(), loaded.keySet(), context + ": exported names"));
        exported.forEach((key, value) -> checks.add(
                () -> assertClose(context, "file round trip of " + key, value, loaded.get(key), 0.0)));
        // PyTorch's weights come back unchanged; its two biases may come back split differently, with the same sum
        f.stateDict().forEach((key, value) -> {
            if (key.startsWith("weight_")) {
                checks.add(() -> assertClose(context, key + " after export", value, loaded.get(key), 0.0));
            } else if (key.startsWith("bias_ih")) {
                String hh = key.replace("bias_ih", "bias_hh");
                checks.add(() -> assertClose(context, key + " + " + hh + " after export",
                        value.add(f.stateDict().get(hh)), loaded.get(key).add(loaded.get(hh)), 0.0));
            }
        });
        checks.add(() -> assertClose(context, "DL4J parameters after re-import", first.network().params(),
                second.network().params(), 0.0));
        LstmOutput a = first.forward(f.input(), f.initialState(), f.lengths());
        LstmOutput b = second.forward(f.input(), f.initialState(), f.lengths());
        checks.add(() -> assertClose(context, "output after re-import", a.output(), b.output(), 0.0));
        checks.add(() -> assertClose(context, "h_n after re-import", a.hN(), b.hN(), 0.0));
        checks.add(() -> assertClose(context, "c_n after re-import", a.cN(), b.cN(), 0.0));
        assertAll(checks);
    }

    static List<Object[]> exportCases() {
        List<Object[]> cases = new ArrayList<>();
        List<Object[]> configs = List.of(
                new Object[] {"uni_l1_f32", LstmConfig.builder(4, 5).build(), DataType.FLOAT, false, false, false},
                new Object[] {"bi_l2_batchfirst_state_f64", LstmConfig.builder(3, 6).numLayers(2).bidirectional(true)
                        .batchFirst(true).build(), DataType.DOUBLE, true, false, false},
                new Object[] {"bi_l2_nobias_lengths_f32", LstmConfig.builder(3, 4).numLayers(2).bidirectional(true)
                        .bias(false).build(), DataType.FLOAT, false, true, false},
                new Object[] {"uni_l3_unbatched_state_f64", LstmConfig.builder(2, 3).numLayers(3).build(),
                        DataType.DOUBLE, true, false, true},
                new Object[] {"proj_bi_l2_state_lengths_f32", LstmConfig.builder(3, 6).projSize(2).numLayers(2)
                        .bidirectional(true).build(), DataType.FLOAT, true, true, false});
        for (Engine engine : Engine.values()) {
            for (Object[] c : configs) {
                if (engine == Engine.REFERENCE && ((LstmConfig) c[1]).projSize() > 0) {
                    continue;
                }
                Object[] row = new Object[c.length + 1];
                row[0] = engine;
                System.arraycopy(c, 0, row, 1, c.length);
                cases.add(row);
            }
        }
        return cases;
    }

    /**
     * Exports a Java-initialised LSTM's state_dict ({@code <engine>_<case>.state_dict.safetensors}) and a run of it
     * in the fixture format ({@code <engine>_<case>.run.safetensors}) to {@code target/export-check}, and checks that
     * both read back unchanged. {@code tools/check_export.py STATE_DICT RUN} then loads the state_dict into
     * {@code nn.LSTM} and compares PyTorch's outputs with Java's.
     */
    @ParameterizedTest(name = "{1} on {0}")
    @MethodSource("exportCases")
    void javaExportForPyTorchCheck(Engine engine, String name, LstmConfig config, DataType dataType, boolean withState,
                                   boolean withLengths, boolean unbatched) throws IOException {
        TorchLstm lstm = TorchLstm.create(config, engine, dataType, 2024L).eval();
        int seqLen = 5;
        int batch = 3;
        Nd4j.getRandom().setSeed(99);
        INDArray input = unbatched ? Nd4j.randn(dataType, seqLen, config.inputSize())
                : config.batchFirst() ? Nd4j.randn(dataType, batch, seqLen, config.inputSize())
                : Nd4j.randn(dataType, seqLen, batch, config.inputSize());
        LstmState state = !withState ? null : unbatched
                ? new LstmState(Nd4j.randn(dataType, config.stateLayers(), config.outputSize()),
                Nd4j.randn(dataType, config.stateLayers(), config.hiddenSize()))
                : new LstmState(Nd4j.randn(dataType, config.stateLayers(), batch, config.outputSize()),
                Nd4j.randn(dataType, config.stateLayers(), batch, config.hiddenSize()));
        int[] lengths = withLengths ? new int[] {2, seqLen, 1} : null;
        LstmOutput out = lstm.forward(input, state, lengths);

        Files.createDirectories(EXPORT_DIR);
        Path stateDictFile = EXPORT_DIR.resolve(engine + "_" + name + ".state_dict.safetensors");
        Path runFile = EXPORT_DIR.resolve(engine + "_" + name + ".run.safetensors");
        StateDicts.save(stateDictFile, lstm.stateDict(), null, null);
        new ParityFixture(config, dataType, lstm.stateDict(), input, state, lengths, out, null, null,
                Map.of("generator", "RoundTripTest (Java, engine " + engine + ")")).write(runFile);

        Map<String, INDArray> savedParams = StateDicts.load(stateDictFile, null);
        ParityFixture run = ParityFixture.read(runFile);
        String context = name + " on " + engine;
        List<Executable> checks = new ArrayList<>();
        lstm.stateDict().forEach((key, value) -> checks.add(
                () -> assertClose(context, key, value, savedParams.get(key), 0.0)));
        checks.add(() -> assertEquals(config, run.config(), context + ": config in the run file"));
        checks.add(() -> assertClose(context, "output", out.output(), run.expected().output(), 0.0));
        checks.add(() -> assertClose(context, "h_n", out.hN(), run.expected().hN(), 0.0));
        checks.add(() -> assertClose(context, "c_n", out.cN(), run.expected().cN(), 0.0));
        assertAll(checks);
    }
}
