package io.torchlstm4j.spark;

import org.apache.spark.sql.SparkSession;

/** One local[2] session for every test class of the run (Spark stops it at JVM exit). */
final class LocalSpark {

    private LocalSpark() {
    }

    static synchronized SparkSession session() {
        return SparkSession.builder().master("local[2]").appName("spark-inference tests")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate();
    }
}
