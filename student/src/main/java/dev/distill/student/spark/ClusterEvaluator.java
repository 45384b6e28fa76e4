package dev.distill.student.spark;

import dev.distill.datasets.Rows;
import dev.distill.student.Evaluation;
import dev.distill.student.FlatArrays;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Evaluates a network (or the teacher's stored logits) on a labelled split on the cluster: each partition
 * runs batched inference with a pooled network loaded from broadcast parameters and returns a partial
 * {@link Evaluation}; partials are tree-reduced on the way to the driver. No rows reach the driver.
 */
public final class ClusterEvaluator {
    private static final int BATCH = 512;

    private ClusterEvaluator() {
    }

    /** Evaluates {@code network}; rows need {@code features}, {@code label}, and {@code teacher_logits} if present. */
    public static Evaluation evaluate(Dataset<Row> rows, MultiLayerNetwork network, int numClasses) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(rows.sparkSession().sparkContext());
        String json = network.getLayerWiseConfigurations().toJson();
        Broadcast<float[]> params = sc.broadcast(FlatArrays.of(network.params()));
        int taskCpus = Integer.parseInt(sc.getConf().get("spark.task.cpus", "1"));
        List<String> names = Arrays.asList(rows.schema().fieldNames());
        int fi = names.indexOf("features");
        int li = names.indexOf("label");
        int ti = names.indexOf("teacher_logits");
        try {
            return rows.javaRDD().mapPartitions(it -> {
                Evaluation e = new Evaluation(numClasses);
                NetworkPool.limitThreads(taskCpus);
                MultiLayerNetwork net = NetworkPool.borrow(json);
                try {
                    float[] p = params.value();
                    net.setParams(Nd4j.createFromArray(p).reshape(1, p.length));
                    List<Row> batch = new ArrayList<>(BATCH);
                    while (it.hasNext()) {
                        batch.add(it.next());
                        if (batch.size() == BATCH || !it.hasNext()) {
                            score(net, batch, fi, li, ti, e);
                            batch.clear();
                        }
                    }
                } finally {
                    NetworkPool.giveBack(json, net);
                }
                return Collections.singletonList(e).iterator();
            }).treeReduce(Evaluation::add, 2);
        } finally {
            params.unpersist(false);
        }
    }

    /** Evaluates the teacher from the {@code teacher_logits} column alone. */
    public static Evaluation evaluateTeacherLogits(Dataset<Row> rows, int numClasses) {
        List<String> names = Arrays.asList(rows.schema().fieldNames());
        int li = names.indexOf("label");
        int ti = names.indexOf("teacher_logits");
        return rows.javaRDD().mapPartitions(it -> {
            Evaluation e = new Evaluation(numClasses);
            while (it.hasNext()) {
                Row r = it.next();
                float[] t = Rows.floats(r.getList(ti));
                e.record(t, null, r.isNullAt(li) ? null : r.getInt(li));
            }
            return Collections.singletonList(e).iterator();
        }).treeReduce(Evaluation::add, 2);
    }

    private static void score(MultiLayerNetwork net, List<Row> batch, int fi, int li, int ti, Evaluation e) {
        int n = batch.size();
        float[] first = Rows.floats(batch.get(0).getList(fi));
        int f = first.length;
        float[] x = new float[n * f];
        for (int r = 0; r < n; r++) {
            float[] xs = r == 0 ? first : Rows.floats(batch.get(r).getList(fi));
            System.arraycopy(xs, 0, x, r * f, f);
        }
        INDArray out = net.output(Nd4j.create(x, new long[] {n, f}, 'c'), false);
        int c = (int) out.size(1);
        float[] all = FlatArrays.of(out);
        for (int r = 0; r < n; r++) {
            Row row = batch.get(r);
            float[] t = ti < 0 ? null : Rows.floats(row.getList(ti));
            e.record(java.util.Arrays.copyOfRange(all, r * c, (r + 1) * c), t,
                    li < 0 || row.isNullAt(li) ? null : row.getInt(li));
        }
    }
}
