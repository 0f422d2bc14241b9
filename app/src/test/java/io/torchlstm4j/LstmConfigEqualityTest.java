package io.torchlstm4j;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** LstmConfig's written-out equals and hashCode keep a record's meaning: every component counts, dropout by bits. */
class LstmConfigEqualityTest {

    private static final LstmConfig BASE = LstmConfig.builder(3, 5).numLayers(2).dropout(0.25).build();

    @Test
    void equalConfigsAreEqualWithEqualHashes() {
        LstmConfig same = new LstmConfig(3, 5, 2, true, false, 0.25, false, 0);
        assertEquals(BASE, same);
        assertEquals(BASE.hashCode(), same.hashCode());
        assertEquals(BASE, BASE.toBuilder().build());
    }

    @Test
    void everyComponentCounts() {
        List<UnaryOperator<LstmConfig.Builder>> changes = List.of(
                b -> LstmConfig.builder(4, 5).numLayers(2).dropout(0.25),
                b -> LstmConfig.builder(3, 6).numLayers(2).dropout(0.25),
                b -> b.numLayers(3), b -> b.bias(false), b -> b.batchFirst(true), b -> b.dropout(0.5),
                b -> b.bidirectional(true), b -> b.projSize(2));
        for (UnaryOperator<LstmConfig.Builder> change : changes) {
            LstmConfig other = change.apply(BASE.toBuilder()).build();
            assertNotEquals(BASE, other, other.toString());
            assertNotEquals(other, BASE, other.toString());
        }
        assertNotEquals(BASE, null);
        assertNotEquals(BASE, (Object) "LSTM(3, 5)");
    }

    @Test
    void dropoutComparesLikeARecordComponent() {
        LstmConfig zero = LstmConfig.builder(3, 5).dropout(0.0).build();
        LstmConfig negativeZero = LstmConfig.builder(3, 5).dropout(-0.0).build();
        assertNotEquals(zero, negativeZero, "Double.compare tells 0.0 from -0.0, as a record's equals does");
    }
}
