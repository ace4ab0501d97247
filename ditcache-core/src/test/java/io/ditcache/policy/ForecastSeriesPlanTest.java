package io.ditcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.RedundancyProfile;
import io.ditcache.SiteKind;
import io.ditcache.model.DefaultModel;
import io.ditcache.model.Denoiser;
import io.ditcache.study.Profiling;
import io.ditcache.sample.Condition;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The planner finds the forecast-error series a profile made with the forecast error holds, and only then. */
class ForecastSeriesPlanTest {

    @Test
    void aProfileWithTheForecastErrorGivesThePlannerItsSeries() throws Exception {
        Denoiser model = DefaultModel.load();
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            SamplingOptions options = new SamplingOptions(List.of(new Condition(3, 0)), 6, 1.0);
            RedundancyProfile with = Profiling.run(model, "default", Schedulers.create("ddim", java.util.Map.of()), options, null,
                    java.util.function.UnaryOperator.identity(), EnumSet.of(SiteKind.BLOCK_RESIDUAL), true);
            RedundancyProfile without = Profiling.run(model, "default", Schedulers.create("ddim", java.util.Map.of()), options, null,
                    java.util.function.UnaryOperator.identity(), EnumSet.of(SiteKind.BLOCK_RESIDUAL), false);
            assertTrue(CellErrorModel.forecastKey(with).isPresent(), "forecast series found");
            assertEquals(CellErrorModel.FORECAST_KEY, CellErrorModel.forecastKey(with).get());
            assertTrue(CellErrorModel.forecastKey(without).isEmpty());
        }
    }
}
