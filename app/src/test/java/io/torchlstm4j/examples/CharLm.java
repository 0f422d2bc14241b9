package io.torchlstm4j.examples;

import io.torchlstm4j.LstmStream;
import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.weights.ModelWeights;
import io.torchlstm4j.weights.StateDicts;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The README's end-to-end example: a PyTorch character-level language model
 * <pre>
 * class CharLm(nn.Module):                      # tools/make_char_lm.py
 *     def __init__(self, vocab):
 *         self.embed = nn.Embedding(vocab, 16)
 *         self.rnn = nn.LSTM(16, 64, num_layers=2)
 *         self.fc = nn.Linear(64, vocab)
 * torch.save(model.state_dict(), "char_lm.pt")
 * </pre>
 * on DL4J: an EmbeddingLayer, a {@link TorchLstm} run one character per call with its state carried
 * ({@link LstmStream}, batch 1), and a DenseLayer, all loaded from the state_dict by PyTorch's names.
 *
 * <p>Not thread-safe: the stream carries the LSTM's state from call to call.
 */
public final class CharLm {

    // --- README example start ---
    private final MultiLayerNetwork embed;   // nn.Embedding(vocab, 16): index -> vector
    private final TorchLstm rnn;             // nn.LSTM(16, 64, num_layers=2)
    private final MultiLayerNetwork fc;      // nn.Linear(64, vocab): logits
    private LstmStream stream;

    /** The model of a state_dict file (.pt, .safetensors or .npz; sizes read from the tensors). */
    public static CharLm load(Path file, Engine engine) throws IOException {
        Map<String, INDArray> stateDict = StateDicts.readAll(file);
        INDArray embedWeight = stateDict.get("embed.weight");                         // (vocab, 16)
        LstmConfig config = StateDicts.inferConfig(StateDicts.under("rnn.", stateDict), false);  // LSTM(16, 64, num_layers=2)
        CharLm model = new CharLm(embedWeight.size(0), embedWeight.size(1), config, engine);
        ModelWeights.builder()
                .embedding("embed.", model.embed.getLayer(0))
                .lstm("rnn.", model.rnn)
                .linear("fc.", model.fc.getLayer(0))
                .build()
                .load(stateDict, file.toString());   // every missing, unexpected or misshapen tensor named at once
        return model;
    }

    private CharLm(long vocab, long embedDim, LstmConfig config, Engine engine) {
        embed = network(new EmbeddingLayer.Builder().nIn(vocab).nOut(embedDim)
                .activation(Activation.IDENTITY).hasBias(false).build());
        rnn = TorchLstm.create(config, engine, DataType.FLOAT, 0).eval();
        fc = network(new DenseLayer.Builder().nIn(config.hiddenSize()).nOut(vocab)
                .activation(Activation.IDENTITY).build());
        reset();
    }

    /** Forgets the carried state: the next character starts a new sequence. */
    public void reset() {
        stream = rnn.stream();
    }

    /** Feeds one character index (batch 1) and returns the logits of the next character, [1, vocab]. */
    public INDArray next(int index) {
        INDArray x = embed.output(Nd4j.createFromArray(new float[][] {{index}}));   // [1, 16]
        INDArray h = stream.next(x.reshape(1, 1, x.size(1))).output();              // (L=1, N=1, 64), state carried
        return fc.output(h.reshape(1, h.size(2)));                                  // [1, vocab]
    }

    /** PyTorch's greedy continuation: the prompt one character per call, then each most likely next character. */
    public String greedy(String vocabulary, String prompt, int length) {
        reset();
        INDArray logits = null;
        for (char c : prompt.toCharArray()) {
            logits = next(vocabulary.indexOf(c));
        }
        StringBuilder continuation = new StringBuilder();
        while (continuation.length() < length) {
            char c = vocabulary.charAt(logits.argMax(1).getInt(0));
            continuation.append(c);
            logits = next(vocabulary.indexOf(c));
        }
        return continuation.toString();
    }
    // --- README example end ---

    private static MultiLayerNetwork network(Layer layer) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT)
                .list(layer).build());
        net.init();
        return net;
    }
}
