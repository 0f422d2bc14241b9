package io.torchlstm4j.spark;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.io.IOException;
import java.util.UUID;

/**
 * Writes a Dataset as Parquet all or nothing: Spark writes into a hidden sibling directory (with its own commit
 * protocol: task outputs are moved into place only when the job commits), which is then renamed to the output path.
 * A failed job leaves nothing at the output path. The rename is atomic on HDFS and local file systems; on object
 * stores (S3) it is a copy, as for any Spark output committed by rename. Safe for concurrent use with distinct
 * outputs.
 */
public final class ParquetOutput {

    private ParquetOutput() {
    }

    /**
     * @throws IllegalArgumentException when {@code output} exists already (nothing is run then)
     */
    public static void write(Dataset<Row> rows, String output) throws IOException {
        Configuration conf = rows.sparkSession().sparkContext().hadoopConfiguration();
        Path out = new Path(output);
        FileSystem fs = out.getFileSystem(conf);
        if (fs.exists(out)) {
            throw new IllegalArgumentException("--output " + output + " exists already: remove it or choose another");
        }
        Path parent = out.getParent();
        if (parent != null) {
            fs.mkdirs(parent);
        }
        Path temporary = new Path(parent, "." + out.getName() + ".incomplete-" + UUID.randomUUID());
        boolean renamed = false;
        try {
            rows.write().parquet(temporary.toString());
            if (!fs.rename(temporary, out)) {
                throw new IOException("could not rename " + temporary + " to " + out);
            }
            renamed = true;
        } finally {
            if (!renamed) {
                fs.delete(temporary, true);
            }
        }
    }
}
