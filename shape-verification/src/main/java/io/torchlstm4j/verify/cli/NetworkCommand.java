package io.torchlstm4j.verify.cli;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.cli.ExitCode;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.engine.Engines;
import io.torchlstm4j.io.TensorFileException;
import io.torchlstm4j.verify.LayoutMap;
import io.torchlstm4j.verify.NetworkVerifier;
import io.torchlstm4j.verify.RandomTensors;
import io.torchlstm4j.verify.Tolerances;
import io.torchlstm4j.weights.Dl4jLstms;
import io.torchlstm4j.weights.StateDicts;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/** {@code network}: maps the LSTM layers of a saved DL4J network to PyTorch's and checks them against the adapter. */
@Command(name = "network", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Checks a DL4J network made of DL4J's own LSTM / Bidirectional(CONCAT, LSTM) layers.", "",
                "Reads a MultiLayerNetwork or ComputationGraph saved with ModelSerializer, maps its LSTM layers to "
                + "PyTorch's (layer, direction) and prints the layout table (DL4J parameters -> PyTorch names, "
                + "h_n index), naming every layer that cannot be part of an nn.LSTM. With --torch-weights it loads "
                + "a PyTorch LSTM state_dict into those layers (every mismatch named at once); otherwise it keeps "
                + "the network's own weights. Then it runs the layers on a random input and checks, from their "
                + "outputs, that each layer's final step (L-1 forward, 0 backward) equals h_n[layer * D + "
                + "direction] of the adapter (TorchLstm) holding the same weights, that the top layer's output "
                + "equals the adapter's, and for plain LSTM layers that DL4J's own final h and c agree."})
final class NetworkCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL.zip", description = "a DL4J model saved with ModelSerializer")
    private Path model;

    @Option(names = "--layers", split = ",", paramLabel = "LAYER",
            description = "the LSTM layers, PyTorch layer 0 first: names (ComputationGraph) or indices "
                    + "(MultiLayerNetwork); default: every recurrent layer in order")
    private List<String> layerNames;

    @Option(names = "--torch-weights", paramLabel = "FILE",
            description = "a PyTorch state_dict (.safetensors or .npz) to load into the layers")
    private Path torchWeights;

    @Option(names = "--prefix", defaultValue = "", paramLabel = "P",
            description = "the LSTM's keys in --torch-weights start with P, e.g. rnn. (default: none)")
    private String prefix;

    @Option(names = "--engine", paramLabel = "fast|reference",
            description = "the adapter's engine (default: the adapter's default for the configuration)")
    private Engine engine;

    @Option(names = "--seq-len", defaultValue = "5", paramLabel = "L", description = "sequence length L (default: ${DEFAULT-VALUE})")
    private int seqLen;

    @Option(names = "--batch", defaultValue = "3", paramLabel = "N", description = "batch size N (default: ${DEFAULT-VALUE})")
    private int batch;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "seed of the input (default: ${DEFAULT-VALUE})")
    private long seed;

    @Option(names = "--atol", paramLabel = "TOL",
            description = "absolute tolerance (default: 1e-5 for float32, 1e-10 for float64)")
    private Double atol;

    @Override
    public Integer call() {
        if (seqLen < 1 || batch < 1) {
            throw new ParameterException(spec.commandLine(), "--seq-len and --batch must be at least 1, got "
                    + "--seq-len " + seqLen + " and --batch " + batch);
        }
        Options.checkTolerance(spec, "--atol", atol);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Dl4jLstms layers;
        try {
            layers = layers(restore());
        } catch (IOException | RuntimeException e) {
            err.println("error: cannot read " + model + " as a DL4J model saved with ModelSerializer: "
                    + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return ExitCode.BAD_INPUT.code();
        }
        out.println(model + ": DL4J layers " + layers.names() + ", " + Formats.dtype(layers.dataType()));
        printLayout(layers, out);
        if (!layers.problems().isEmpty()) {
            return mismatches(layers.problems(), "the layers cannot hold an nn.LSTM", out);
        }
        LstmConfig config = layers.config();
        out.println("holding " + config);
        Map<String, INDArray> stateDict;
        if (torchWeights == null) {
            stateDict = layers.stateDict();
            out.println("weights: the network's own");
        } else {
            try {
                stateDict = StateDicts.load(torchWeights, prefix);   // no LSTM key under the prefix: usage error
            } catch (TensorFileException e) {
                err.println("error: " + e.getMessage());
                return ExitCode.BAD_INPUT.code();
            } catch (IOException e) {
                err.println("error: cannot read --torch-weights " + torchWeights + ": " + e);
                return ExitCode.BAD_INPUT.code();
            }
            try {
                layers.loadStateDict(stateDict, torchWeights + (prefix.isEmpty() ? "" : " (keys under '" + prefix + "')"));
            } catch (IllegalArgumentException e) {
                return mismatches(e.getMessage().lines().skip(1).map(String::strip).toList(),
                        e.getMessage().lines().findFirst().orElse(""), out);
            }
            out.println("weights: " + torchWeights + (prefix.isEmpty() ? "" : ", keys under '" + prefix + "'"));
        }
        Engine chosen = engine != null ? engine : Engines.defaultFor(config);
        DataType dataType = layers.dataType();
        double tolerance = atol != null ? atol : Tolerances.forward(dataType);
        Map<String, INDArray> converted = new LinkedHashMap<>();
        stateDict.forEach((k, v) -> converted.put(k, v.castTo(dataType)));
        TorchLstm adapter = TorchLstm.fromStateDict(config, chosen, converted).eval();
        INDArray input = RandomTensors.normal(dataType, new Random(seed), seqLen, batch, config.inputSize());
        LstmOutput reference = adapter.forward(input);
        NetworkVerifier.Result result = NetworkVerifier.verify(layers, input, reference, "adapter", tolerance);
        out.println();
        out.println("reference: TorchLstm on engine " + chosen + " with the same weights; input (L, N, H_in) = ("
                + seqLen + ", " + batch + ", " + config.inputSize() + "), seed " + seed + ", atol "
                + Formats.number(tolerance));
        Formats.checks(result.checks(), result.notes(), out);
        out.flush();
        return result.passed() ? ExitCode.OK.code() : ExitCode.FAILED.code();
    }

    private Object restore() throws IOException {
        if (!Files.isRegularFile(model)) {
            throw new IOException("no such file");
        }
        boolean graph;
        try (ZipFile zip = new ZipFile(model.toFile())) {
            ZipEntry entry = zip.getEntry("configuration.json");
            if (entry == null) {
                throw new IOException("the zip has no configuration.json");
            }
            try (InputStream in = zip.getInputStream(entry)) {
                graph = new String(in.readAllBytes(), StandardCharsets.UTF_8).contains("\"vertices\"");
            }
        }
        return graph ? ModelSerializer.restoreComputationGraph(model.toFile(), false)
                : ModelSerializer.restoreMultiLayerNetwork(model.toFile(), false);
    }

    private Dl4jLstms layers(Object net) {
        if (net instanceof ComputationGraph graph) {
            return layerNames == null ? Dl4jLstms.of(graph) : Dl4jLstms.of(graph, layerNames.toArray(String[]::new));
        }
        MultiLayerNetwork mln = (MultiLayerNetwork) net;
        if (layerNames == null) {
            return Dl4jLstms.of(mln);
        }
        int[] indices = new int[layerNames.size()];
        for (int i = 0; i < indices.length; i++) {
            try {
                indices[i] = Integer.parseInt(layerNames.get(i).strip());
            } catch (NumberFormatException e) {
                throw new ParameterException(spec.commandLine(), "--layers of a MultiLayerNetwork are layer indices; '"
                        + layerNames.get(i) + "' is not one");
            }
        }
        try {
            return Dl4jLstms.of(mln, indices);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--layers: " + e.getMessage());
        }
    }

    private static void printLayout(Dl4jLstms layers, PrintWriter out) {
        Table table = new Table("dl4j layer", "dl4j type", "layer", "direction", "h_n index", "dl4j params",
                "pytorch parameters", "nIn", "hidden");
        int d = layers.layout().stream().mapToInt(e -> e.direction() + 1).max().orElse(1);
        for (Dl4jLstms.Entry e : layers.layout()) {
            table.row(e.dl4jLayer(), e.dl4jType(), String.valueOf(e.layer()), LayoutMap.directionName(e.direction()),
                    String.valueOf(e.layer() * d + e.direction()), e.dl4jParams(), e.torchNames(),
                    String.valueOf(e.inputSize()), String.valueOf(e.hiddenSize()));
        }
        table.print(out);
    }

    private static int mismatches(List<String> problems, String heading, PrintWriter out) {
        out.println(heading.endsWith(":") ? heading : heading + ":");
        List<String> lines = new ArrayList<>(problems);
        lines.forEach(p -> out.println("MISMATCH: " + p));
        out.println(lines.size() + " mismatch(es)");
        out.flush();
        return ExitCode.FAILED.code();
    }
}
