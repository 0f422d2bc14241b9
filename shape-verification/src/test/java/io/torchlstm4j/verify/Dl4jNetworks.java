package io.torchlstm4j.verify;

import io.torchlstm4j.core.LstmConfig;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.IOException;
import java.nio.file.Path;

/** Networks made of DL4J's own LSTM and Bidirectional(Mode.CONCAT, LSTM) layers, as users build them. */
public final class Dl4jNetworks {

    private Dl4jNetworks() {
    }

    /** DL4J's LSTM with nn.LSTM's activations (tanh; the gates' sigmoid is DL4J's default). */
    public static LSTM lstm(long nIn, long nOut) {
        return new LSTM.Builder().nIn(nIn).nOut(nOut).activation(Activation.TANH).build();
    }

    /** One DL4J layer per PyTorch layer: LSTM, or Bidirectional(CONCAT, LSTM), followed by {@code more}. */
    public static MultiLayerNetwork of(LstmConfig config, DataType dataType, Layer... more) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder().dataType(dataType).list();
        for (int k = 0; k < config.numLayers(); k++) {
            LSTM lstm = lstm(config.layerInputSize(k), config.hiddenSize());
            list.layer(config.bidirectional() ? new Bidirectional(Bidirectional.Mode.CONCAT, lstm) : lstm);
        }
        for (Layer layer : more) {
            list.layer(layer);
        }
        MultiLayerNetwork net = new MultiLayerNetwork(list.build());
        net.init();
        return net;
    }

    /** A network of these layers. */
    public static MultiLayerNetwork of(DataType dataType, Layer... layers) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(dataType)
                .list(layers).build());
        net.init();
        return net;
    }

    /** Saves with ModelSerializer (no updater) and returns the file. */
    public static Path save(MultiLayerNetwork net, Path file) throws IOException {
        ModelSerializer.writeModel(net, file.toFile(), false);
        return file;
    }
}
