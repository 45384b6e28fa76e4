package dev.distill.settings;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Finds keys a user wrote that no module reads. Typesafe Config's {@code checkValid} accepts extra keys,
 * so a misspelled {@code epocs = 3} would otherwise be silently ignored and the default used.
 *
 * <p>Every leaf under {@code root} in the user's configuration must exist in the reference configuration,
 * except below "open" paths (for example {@code kd.spark.conf}, which passes arbitrary Spark settings
 * through). Lists are leaves here: their elements are validated by whoever reads them.
 */
public final class UnknownKeys {
    private UnknownKeys() {
    }

    public static List<Problem> find(Config user, Config reference, String root, Set<String> openPaths) {
        List<Problem> problems = new ArrayList<>();
        if (!user.hasPath(root)) {
            return problems;
        }
        Config scoped = user.withOnlyPath(root);
        for (Map.Entry<String, ConfigValue> e : scoped.entrySet()) {
            String path = e.getKey();
            if (isOpen(path, openPaths) || reference.hasPathOrNull(path)) {
                continue;
            }
            if (shadowsLeaf(path, reference)) {
                problems.add(new Problem(path, Origins.describe(e.getValue().origin()),
                        e.getValue().render(com.typesafe.config.ConfigRenderOptions.concise()),
                        "unknown key: " + parentOfLeaf(path, reference) + " is a single value, not an object"));
                continue;
            }
            problems.add(new Problem(path, Origins.describe(e.getValue().origin()),
                    e.getValue().render(com.typesafe.config.ConfigRenderOptions.concise()),
                    suggestion(path, reference)));
        }
        problems.sort(Comparator.comparing(Problem::key));
        return problems;
    }

    private static boolean isOpen(String path, Set<String> openPaths) {
        for (String open : openPaths) {
            if (path.equals(open) || path.startsWith(open + ".")) {
                return true;
            }
        }
        return false;
    }

    private static boolean shadowsLeaf(String path, Config reference) {
        return parentOfLeaf(path, reference) != null;
    }

    private static String parentOfLeaf(String path, Config reference) {
        List<String> parts = ConfigUtil.splitPath(path);
        for (int i = parts.size() - 1; i >= 1; i--) {
            String parent = ConfigUtil.joinPath(parts.subList(0, i));
            if (reference.hasPathOrNull(parent)) {
                ConfigValue v = reference.getValue(parent);
                return v.valueType() == ConfigValueType.OBJECT ? null : parent;
            }
        }
        return null;
    }

    private static String suggestion(String path, Config reference) {
        List<String> parts = ConfigUtil.splitPath(path);
        for (int i = parts.size() - 1; i >= 1; i--) {
            String parent = ConfigUtil.joinPath(parts.subList(0, i));
            if (!reference.hasPath(parent)) {
                continue;
            }
            ConfigObject obj = reference.getObject(parent);
            Set<String> valid = new TreeSet<>(obj.keySet());
            String misspelled = parts.get(i);
            String best = null;
            int bestDistance = Integer.MAX_VALUE;
            for (String candidate : valid) {
                int d = editDistance(misspelled, candidate);
                if (d < bestDistance) {
                    bestDistance = d;
                    best = candidate;
                }
            }
            StringBuilder msg = new StringBuilder("unknown key");
            if (best != null && bestDistance <= Math.max(2, misspelled.length() / 3)) {
                msg.append("; did you mean ").append(parent).append('.').append(best).append('?');
            }
            msg.append(" Valid keys under ").append(parent).append(": ").append(String.join(", ", valid));
            return msg.toString();
        }
        return "unknown key";
    }

    /** Levenshtein distance, for "did you mean" suggestions. */
    public static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
