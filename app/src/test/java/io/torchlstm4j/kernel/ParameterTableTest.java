package io.torchlstm4j.kernel;

import io.torchlstm4j.core.LstmConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class ParameterTableTest {

    static Stream<LstmConfig> configs() {
        return Stream.of(LstmConfig.builder(3, 5).build(),
                LstmConfig.builder(7, 4).numLayers(3).bidirectional(true).build(),
                LstmConfig.builder(2, 6).numLayers(2).bias(false).projSize(3).build(),
                LstmConfig.builder(5, 8).numLayers(2).bidirectional(true).projSize(2).build());
    }

    @ParameterizedTest
    @MethodSource("configs")
    void blocksTileWAndBWithoutGapsAndCountEveryParameter(LstmConfig config) {
        ParameterTable table = ParameterTable.of(config);
        List<ParameterTable.Block> weights = new ArrayList<>();
        List<ParameterTable.Block> biases = new ArrayList<>();
        for (ParameterTable.Slot slot : table.slots()) {
            weights.add(slot.wIh());
            weights.add(slot.wHh());
            if (config.projSize() > 0) {
                weights.add(slot.wHr());
            } else {
                assertNull(slot.wHr());
            }
            if (config.bias()) {
                biases.add(slot.bIh());
                biases.add(slot.bHh());
            } else {
                assertNull(slot.bIh());
                assertNull(slot.bHh());
            }
        }
        assertEquals(table.weightCount(), tiledLength(weights), "W");
        assertEquals(table.biasCount(), tiledLength(biases), "b");
        assertEquals(config.parameterCount(), table.parameterCount());
    }

    @ParameterizedTest
    @MethodSource("configs")
    void slotsAreLayerMajorWithTheShapesOfEachLayer(LstmConfig config) {
        ParameterTable table = ParameterTable.of(config);
        assertEquals(config.numLayers() * config.numDirections(), table.slots().size());
        for (int layer = 0; layer < config.numLayers(); layer++) {
            for (int dir = 0; dir < config.numDirections(); dir++) {
                ParameterTable.Slot slot = table.slot(layer, dir);
                assertSame(table.slots().get(layer * config.numDirections() + dir), slot);
                assertEquals(new ParameterTable.Block(slot.wIh().offset(), 4L * config.hiddenSize(),
                        config.layerInputSize(layer)), slot.wIh());
                assertEquals(new ParameterTable.Block(slot.wHh().offset(), 4L * config.hiddenSize(),
                        config.outputSize()), slot.wHh());
            }
        }
    }

    /** The length the blocks cover when they follow each other from offset 0 without gaps or overlaps. */
    private static long tiledLength(List<ParameterTable.Block> blocks) {
        List<ParameterTable.Block> sorted = blocks.stream().sorted(Comparator.comparingLong(ParameterTable.Block::offset))
                .toList();
        assertEquals(blocks, sorted, "blocks in state_dict order");
        long end = 0;
        for (ParameterTable.Block block : sorted) {
            assertEquals(end, block.offset(), "gap or overlap before " + block);
            end += block.size();
        }
        return end;
    }
}
