package io.torchlstm4j.mnist;

import io.torchlstm4j.io.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/** A PNG of the train loss of every step and the periodic test accuracy (right axis) against the step. */
final class TrainingPlot {

    private TrainingPlot() {
    }

    /** Plots the result; {@code finalAccuracy} is drawn after the last step when no evaluation fell there. */
    static void write(Path file, Training.Result result, double finalAccuracy, String title) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(500).title(title).xAxisTitle("step").build();
        chart.setYAxisGroupTitle(0, "train loss");
        chart.setYAxisGroupTitle(1, "test accuracy");
        chart.getStyler().setYAxisMin(1, 0.0).setYAxisMax(1, 1.0);
        chart.getStyler().setYAxisGroupPosition(1, Styler.YAxisPosition.Right);
        chart.getStyler().setXAxisTickMarkSpacingHint(90);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        List<Integer> steps = IntStream.range(0, result.steps()).boxed().toList();
        XYSeries loss = chart.addSeries("train loss", steps, result.losses());
        loss.setMarker(SeriesMarkers.NONE);
        List<Integer> evalSteps = new ArrayList<>(result.evals().stream().map(Training.EvalPoint::step).toList());
        List<Double> accuracies = new ArrayList<>(result.evals().stream().map(Training.EvalPoint::testAccuracy).toList());
        if (evalSteps.isEmpty() || evalSteps.get(evalSteps.size() - 1) != result.steps() - 1) {
            evalSteps.add(result.steps() - 1);
            accuracies.add(finalAccuracy);
        }
        XYSeries accuracy = chart.addSeries("test accuracy", evalSteps, accuracies);
        accuracy.setYAxisGroup(1);
        accuracy.setMarker(SeriesMarkers.CIRCLE);
        byte[] png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        AtomicFiles.write(file, out -> out.write(png));
    }
}
