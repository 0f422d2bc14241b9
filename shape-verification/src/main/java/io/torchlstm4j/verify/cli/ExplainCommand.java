package io.torchlstm4j.verify.cli;

import io.torchlstm4j.cli.ExitCode;
import io.torchlstm4j.verify.LayoutMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code explain}: prints the layout map of h_n, c_n and output for a configuration. */
@Command(name = "explain", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Prints which entry of h_n and c_n is which layer, direction, time step and output slice.", "",
                "Prints, for each index of h_n (and c_n), its layer and direction, the time step its final "
                + "state comes from and the slice of output that equals it (top layer only). Sizes not given are "
                + "written as symbols (H, L)."})
final class ExplainCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--num-layers", defaultValue = "1", paramLabel = "N", description = "num_layers (default: ${DEFAULT-VALUE})")
    private int numLayers;

    @Option(names = "--bidirectional", description = "bidirectional=True")
    private boolean bidirectional;

    @Option(names = "--batch-first", description = "batch_first=True: output is (N, L, D * H)")
    private boolean batchFirst;

    @Option(names = "--hidden-size", paramLabel = "H", description = "hidden_size (default: the symbol H)")
    private int hiddenSize;

    @Option(names = "--proj-size", paramLabel = "P", description = "proj_size: h and output have P features, c has H")
    private int projSize;

    @Option(names = "--seq-len", paramLabel = "L", description = "sequence length (default: the symbol L)")
    private int seqLen;

    @Option(names = "--packed", description = "per-sample lengths (pack_padded_sequence): final steps per sample")
    private boolean packed;

    @Override
    public Integer call() {
        if (numLayers < 1 || hiddenSize < 0 || projSize < 0 || seqLen < 0) {
            throw new ParameterException(spec.commandLine(), "--num-layers must be at least 1 and --hidden-size, "
                    + "--proj-size and --seq-len positive; got --num-layers " + numLayers + ", --hidden-size "
                    + hiddenSize + ", --proj-size " + projSize + ", --seq-len " + seqLen);
        }
        if (projSize > 0 && hiddenSize > 0 && projSize >= hiddenSize) {
            throw new ParameterException(spec.commandLine(), "--proj-size " + projSize
                    + " must be smaller than --hidden-size " + hiddenSize);
        }
        int outputSize = projSize > 0 ? projSize : hiddenSize;
        String h = outputSize > 0 ? String.valueOf(outputSize) : "H";
        String cell = hiddenSize > 0 ? String.valueOf(hiddenSize) : "H";
        int d = bidirectional ? 2 : 1;
        LayoutMap map = LayoutMap.of(numLayers, bidirectional, batchFirst, outputSize, seqLen, packed);
        PrintWriter out = spec.commandLine().getOut();
        out.println("LSTM with num_layers=" + numLayers + (bidirectional ? ", bidirectional=True" : "")
                + (batchFirst ? ", batch_first=True" : "") + (projSize > 0 ? ", proj_size=" + projSize : "")
                + ": D = " + d);
        out.println("h_n: (num_layers * D, N, " + h + ") = (" + numLayers * d + ", N, " + h + "), c_n: ("
                + numLayers * d + ", N, " + cell + "); entry layer * D + direction");
        String length = seqLen > 0 ? String.valueOf(seqLen) : "L";
        out.println("output: " + (batchFirst ? "(N, " + length + ", " : "(" + length + ", N, ")
                + (bidirectional ? "2 * " + h : h) + "), the top layer (layer " + (numLayers - 1) + ") only"
                + (bidirectional ? ", forward features first" : ""));
        out.println();
        Table table = new Table("h_n index", "layer", "direction", "final time step", "equals");
        for (LayoutMap.Entry e : map.entries()) {
            table.row(String.valueOf(e.index()), String.valueOf(e.layer()), LayoutMap.directionName(e.direction()),
                    e.timeStep(), e.outputSlice() == null ? "-" : e.outputSlice());
        }
        table.print(out);
        out.println();
        out.println("c_n[i] is the cell state of the same layer, direction and step as h_n[i]; no slice of output "
                + "holds it.");
        if (numLayers > 1) {
            out.println("Layers below the top appear only in h_n and c_n, not in output.");
        }
        if (bidirectional) {
            out.println("The backward direction reads the sequence from its last step to step 0, so its final state "
                    + "is at step 0.");
        }
        out.println(packed ? "Packed: the forward direction ends at each sample's last valid step lengths[n]-1"
                + (bidirectional ? " and the backward direction starts there" : "")
                + "; output is zero past each length."
                : "With per-sample lengths (packed sequences) the forward final step is each sample's own last "
                + "valid step (--packed shows it).");
        out.println("batch_first applies to input and output only, never to h_n and c_n.");
        out.flush();
        return ExitCode.OK.code();
    }
}
