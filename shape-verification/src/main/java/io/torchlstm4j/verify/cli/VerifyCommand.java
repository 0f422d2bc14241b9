package io.torchlstm4j.verify.cli;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.cli.ExitCode;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmState;
import io.torchlstm4j.engine.Engines;
import io.torchlstm4j.verify.CheckResult;
import io.torchlstm4j.verify.LayoutMap;
import io.torchlstm4j.verify.LayoutVerifier;
import io.torchlstm4j.verify.RandomTensors;
import io.torchlstm4j.verify.Tolerances;
import io.torchlstm4j.verify.VerificationReport;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.function.Function;

/** {@code verify}: runs the layout checks of {@link LayoutVerifier} on the adapter with random weights and input. */
@Command(name = "verify", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Checks PyTorch's layout invariants on the adapter, with random weights and input.", "",
                "Builds nn.LSTM(input_size, hidden_size, ...) on the adapter with PyTorch's random "
                + "initialisation, runs a random batch, prints the three shapes as the PyTorch tutorial does, then "
                + "checks the layout: shapes; for every layer and direction, that layer's output at its final step "
                + "equals h_n[layer * D + direction] (output_lk: the same LSTM cut to layers 0..k); the tutorial's "
                + "slices output[-1, :, :H] and output[0, :, H:]; c_n by running two chunks with the state carried "
                + "over (unidirectional); each sample alone equals its row of the batch."})
final class VerifyCommand implements Callable<Integer> {

    private final Function<Engine, LayoutVerifier> verifiers;

    @Spec
    private CommandSpec spec;

    @Option(names = "--input-size", required = true, paramLabel = "H_in", description = "input_size")
    private int inputSize;

    @Option(names = "--hidden-size", required = true, paramLabel = "H", description = "hidden_size")
    private int hiddenSize;

    @Option(names = "--num-layers", defaultValue = "1", paramLabel = "N", description = "num_layers (default: ${DEFAULT-VALUE})")
    private int numLayers;

    @Option(names = "--bias", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "bias (default: true; --no-bias for bias=False)")
    private boolean bias;

    @Option(names = "--batch-first", description = "batch_first=True: input and output are (N, L, F)")
    private boolean batchFirst;

    @Option(names = "--bidirectional", description = "bidirectional=True")
    private boolean bidirectional;

    @Option(names = "--proj-size", defaultValue = "0", paramLabel = "P",
            description = "proj_size (LSTMP; default: ${DEFAULT-VALUE}, none)")
    private int projSize;

    @Option(names = "--seq-len", defaultValue = "5", paramLabel = "L", description = "sequence length L (default: ${DEFAULT-VALUE})")
    private int seqLen;

    @Option(names = "--batch", defaultValue = "3", paramLabel = "N", description = "batch size N (default: ${DEFAULT-VALUE})")
    private int batch;

    @Option(names = "--with-state", description = "pass random (h0, c0) instead of zeros")
    private boolean withState;

    @Option(names = "--lengths", split = ",", paramLabel = "LEN",
            description = "per-sample lengths (packed sequences), e.g. 5,3,2: one per sample, each in 1..L")
    private int[] lengths;

    @Option(names = "--dtype", defaultValue = "float32", converter = Formats.DtypeConverter.class,
            paramLabel = "float32|float64", description = "dtype (default: ${DEFAULT-VALUE})")
    private DataType dataType;

    @Option(names = "--engine", paramLabel = "fast|reference",
            description = "the adapter's engine (default: the adapter's default for the configuration)")
    private Engine engine;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "seed of the weights and inputs (default: ${DEFAULT-VALUE})")
    private long seed;

    @Option(names = "--atol", paramLabel = "TOL",
            description = "absolute tolerance (default: 1e-5 for float32, 1e-10 for float64)")
    private Double atol;

    @Option(names = "--json", description = "print the report as JSON instead of text")
    private boolean json;

    /** The command on the project's adapter. */
    VerifyCommand() {
        this(LayoutVerifier::onAdapter);
    }

    /** The command on the verifiers given (tests give one that checks a deliberately broken LSTM). */
    VerifyCommand(Function<Engine, LayoutVerifier> verifiers) {
        this.verifiers = verifiers;
    }

    @Override
    public Integer call() {
        LstmConfig config = config();
        checkOptions();
        Engine chosen = engine != null ? engine : Engines.defaultFor(config);
        double tolerance = atol != null ? atol : Tolerances.forward(dataType);
        TorchLstm lstm = TorchLstm.create(config, chosen, dataType, seed);
        Random random = new Random(seed);
        INDArray input = config.batchFirst() ? RandomTensors.normal(dataType, random, batch, seqLen, inputSize)
                : RandomTensors.normal(dataType, random, seqLen, batch, inputSize);
        LstmState state = withState ? new LstmState(
                RandomTensors.normal(dataType, random, config.stateLayers(), batch, config.outputSize()),
                RandomTensors.normal(dataType, random, config.stateLayers(), batch, config.hiddenSize())) : null;
        VerificationReport report = verifiers.apply(chosen).verify(config, lstm.stateDict(), input, state,
                lengths, tolerance);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(toJson(report)));
        } else {
            print(report, out);
        }
        out.flush();
        return (report.passed() ? ExitCode.OK : ExitCode.FAILED).code();
    }

    private LstmConfig config() {
        try {
            return LstmConfig.builder(inputSize, hiddenSize).numLayers(numLayers).bias(bias).batchFirst(batchFirst)
                    .bidirectional(bidirectional).projSize(projSize).build();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "Invalid LSTM options: " + e.getMessage());
        }
    }

    private void checkOptions() {
        if (seqLen < 1 || batch < 1) {
            throw new ParameterException(spec.commandLine(), "--seq-len and --batch must be at least 1, got "
                    + "--seq-len " + seqLen + " and --batch " + batch);
        }
        Options.checkTolerance(spec, "--atol", atol);
        if (lengths == null) {
            return;
        }
        if (lengths.length != batch) {
            throw new ParameterException(spec.commandLine(), "--lengths has " + lengths.length + " values but --batch is "
                    + batch + ": one length per sample was expected");
        }
        for (int i = 0; i < lengths.length; i++) {
            if (lengths[i] < 1 || lengths[i] > seqLen) {
                throw new ParameterException(spec.commandLine(), "--lengths value " + (i + 1) + " is " + lengths[i]
                        + " but every length must be in 1..--seq-len = 1.." + seqLen);
            }
        }
    }

    private void print(VerificationReport report, PrintWriter out) {
        out.println("output shape: " + report.outputShape());
        out.println("hn shape: " + report.hnShape());
        out.println("cn shape: " + report.cnShape());
        out.println();
        out.println(report.config() + " on " + report.subject() + ", " + Formats.dtype(report.dataType())
                + ", seed " + seed + (report.lengths() == null ? "" : ", lengths " + report.lengths())
                + ", atol " + Formats.number(report.atol()));
        Formats.checks(report.checks(), report.notes(), out);
    }

    private Map<String, Object> toJson(VerificationReport report) {
        LstmConfig c = report.config();
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("input_size", c.inputSize());
        config.put("hidden_size", c.hiddenSize());
        config.put("num_layers", c.numLayers());
        config.put("bias", c.bias());
        config.put("batch_first", c.batchFirst());
        config.put("bidirectional", c.bidirectional());
        config.put("proj_size", c.projSize());
        List<Object> checks = new ArrayList<>();
        for (CheckResult check : report.checks()) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", check.name());
            entry.put("layer", check.layer() == CheckResult.ALL ? null : check.layer());
            entry.put("direction", check.direction() == CheckResult.ALL ? null
                    : LayoutMap.directionName(check.direction()));
            entry.put("compared", check.compared());
            entry.put("max_abs_difference", check.maxAbsDifference());
            entry.put("passed", check.passed());
            checks.add(entry);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("module", c.toString());
        json.put("config", config);
        json.put("subject", report.subject());
        json.put("dtype", Formats.dtype(report.dataType()));
        json.put("seed", seed);
        json.put("lengths", report.lengths());
        json.put("atol", report.atol());
        json.put("output_shape", report.outputShape());
        json.put("hn_shape", report.hnShape());
        json.put("cn_shape", report.cnShape());
        json.put("checks", checks);
        json.put("not_run", report.notes());
        json.put("passed", report.passed());
        return json;
    }
}
