package io.ditcache;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * What a user of ditcache-core receives through it: no natives (a classifier jar of any platform, CPU or GPU)
 * and no JFreeChart. This module's own build may name them, as optional dependencies, to run its tests.
 */
class CorePomTest {

    @Test
    void nativesAndChartsNeverReachAUserOfCore() throws Exception {
        Element project = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile())
                .getDocumentElement();
        NodeList deps = project.getElementsByTagName("dependency");
        List<String> leaking = new ArrayList<>();
        int natives = 0;
        for (int i = 0; i < deps.getLength(); i++) {
            Element d = (Element) deps.item(i);
            String id = text(d, "groupId") + ":" + text(d, "artifactId") + ":" + text(d, "classifier");
            boolean nativeJar = !text(d, "classifier").isEmpty() || text(d, "artifactId").startsWith("cuda");
            boolean charts = text(d, "artifactId").equals("jfreechart");
            boolean kept = text(d, "optional").equals("true") || text(d, "scope").equals("test");
            natives += nativeJar ? 1 : 0;
            if ((nativeJar || charts) && !kept) {
                leaking.add(id);
            }
        }
        assertTrue(natives > 0, "the pom names the natives its own tests run with");
        assertTrue(leaking.isEmpty(), "passed on to every user of ditcache-core: " + leaking);
    }

    private static String text(Element e, String child) {
        NodeList l = e.getElementsByTagName(child);
        for (int i = 0; i < l.getLength(); i++) {
            if (l.item(i).getParentNode() == e) {
                return l.item(i).getTextContent().strip();
            }
        }
        return "";
    }
}
