package io.ditcache.report;

import io.ditcache.io.AtomicFiles;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * PNG files written so that a failure is one exception naming the file: the image is encoded in memory, then its
 * bytes are written atomically. ImageIO's own file paths are avoided on purpose: {@code ImageIO.write} to a stream
 * buffers in a temporary cache file, and when the disk fills, that cache fails as "I/O error writing PNG file!",
 * naming no file, and can leave a stack trace from ImageIO's closer thread at exit.
 */
public final class PngFiles {
    private PngFiles() {
    }

    /**
     * Writes {@code image} as a PNG file at {@code target}, atomically.
     *
     * @throws IOException naming {@code target} when encoding or writing fails (a full disk, for one)
     */
    public static void write(BufferedImage image, Path target) throws IOException {
        byte[] png = encode(image, target);
        AtomicFiles.write(target, tmp -> Files.write(tmp, png)); // names the target when a write fails
    }

    /** The PNG encoding of {@code image}, made in memory; {@code target} only names the image in errors. */
    static byte[] encode(BufferedImage image, Path target) throws IOException {
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
        if (!writers.hasNext()) {
            throw new IOException(target + ": no PNG writer in this Java runtime");
        }
        ImageWriter writer = writers.next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            writer.write(image);
        } catch (IOException | RuntimeException e) {
            throw new IOException(target + ": PNG encoding failed: "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }
}
