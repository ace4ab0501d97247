package io.ditcache.policy;

import io.ditcache.Block;
import io.ditcache.BlockPart;
import io.ditcache.CachePolicy.Decision;
import java.util.EnumSet;
import java.util.Set;

/**
 * What a planned mask does at one (step, block) cell: compute the block, reuse its attention and/or feed-forward
 * outputs under the current step's modulation (FORA's part reuse), reuse the whole block's residual, or forecast the
 * residual by a first-order Taylor expansion (TaylorSeer). Each has a one-letter code, the mask file's cell.
 */
public enum CellDecision {
    /** Run the block. */
    COMPUTE('C'),
    /** Reuse the block's attention parts (self, cross, context), compute its feed-forward parts. */
    REUSE_ATTENTION('A'),
    /** Reuse the block's feed-forward parts, compute its attention parts. */
    REUSE_FEED_FORWARD('F'),
    /** Reuse every part of the block; only its norms and gates run. */
    REUSE_PARTS('P'),
    /** Skip the block: its input plus its last computed residual. */
    REUSE_BLOCK('B'),
    /** Skip the block: its input plus its residual forecast (Taylor order 1) from its last two computed ones. */
    FORECAST_BLOCK('T');

    private final char code;

    CellDecision(char code) {
        this.code = code;
    }

    /** The letter of this decision in a mask file. */
    public char code() {
        return code;
    }

    /** The decision of {@code code}, or null for none. */
    public static CellDecision of(char code) {
        for (CellDecision d : values()) {
            if (d.code == code) {
                return d;
            }
        }
        return null;
    }

    /** Whether this decision reuses part outputs (the block runs). */
    public boolean reusesParts() {
        return this == REUSE_ATTENTION || this == REUSE_FEED_FORWARD || this == REUSE_PARTS;
    }

    /** Whether this decision skips the whole block. */
    public boolean skipsBlock() {
        return this == REUSE_BLOCK || this == FORECAST_BLOCK;
    }

    /** The parts of a block with {@code parts} this decision reuses (every part for a whole-block decision). */
    public Set<BlockPart> reused(Set<BlockPart> parts) {
        Set<BlockPart> out = EnumSet.noneOf(BlockPart.class);
        for (BlockPart p : parts) {
            boolean take = switch (this) {
                case COMPUTE -> false;
                case REUSE_ATTENTION -> p.isAttention();
                case REUSE_FEED_FORWARD -> p.isFeedForward();
                case REUSE_PARTS, REUSE_BLOCK, FORECAST_BLOCK -> true;
            };
            if (take) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * Whether a block with {@code parts} can take this decision: part reuse needs the parts it names (and reusing
     * attention or feed-forward alone needs the other kind too, else it is {@link #REUSE_PARTS}).
     */
    public boolean fits(Set<BlockPart> parts) {
        boolean attention = parts.stream().anyMatch(BlockPart::isAttention);
        boolean feedForward = parts.stream().anyMatch(BlockPart::isFeedForward);
        return switch (this) {
            case COMPUTE, REUSE_BLOCK, FORECAST_BLOCK -> true;
            case REUSE_ATTENTION -> attention && feedForward;
            case REUSE_FEED_FORWARD -> attention && feedForward;
            case REUSE_PARTS -> !parts.isEmpty();
        };
    }

    /**
     * The share of a block with {@code parts} this decision computes: 1, 0 for a whole-block decision, else the
     * share of parts it does not reuse (parts counted alike, as {@link Decision#skipped} counts them).
     */
    public double computedShare(Set<BlockPart> parts) {
        if (this == COMPUTE) {
            return 1;
        }
        if (skipsBlock() || parts.isEmpty()) {
            return 0;
        }
        return 1 - (double) reused(parts).size() / parts.size();
    }

    /** The runtime's decision for {@code block}. */
    public Decision on(Block block) {
        return switch (this) {
            case COMPUTE -> Decision.COMPUTE;
            case REUSE_BLOCK -> Decision.REUSE_BLOCK;
            case FORECAST_BLOCK -> Decision.forecastBlock(1);
            default -> Decision.reuse(reused(block.parts()));
        };
    }
}
