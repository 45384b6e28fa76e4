package dev.distill.job;

import com.typesafe.config.Config;
import dev.distill.datasets.augment.Augmentation;
import dev.distill.settings.SettingsReader;
import dev.distill.student.StudentSettings;
import dev.distill.student.TrainingSettings;
import dev.distill.student.loss.DistillationLoss;
import dev.distill.student.loss.DistillationLosses;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code kd.compare}: what {@code distill compare} trains: the job's student with each method, for
 * {@code seeds} seeds, on the training split minus a validation share held out by a seeded hash of the id;
 * methods are scored on the validation rows (to choose settings by) and on the test split (to report).
 *
 * @param seeds              seeds per method (the student's training seed, then +1, +2, …)
 * @param validationFraction share of the labelled training rows held out for validation, in [0.01, 0.5]
 * @param methods            in the order listed
 */
public record CompareSettings(int seeds, double validationFraction, List<Method> methods) {

    /**
     * One way of training the student.
     *
     * @param name    as shown in the table
     * @param loss    its loss; a hard-label method's has no teacher term
     * @param augment each example seen through a random view of {@code kd.augment} each epoch
     * @param views   use the stored views of soft labels that have them (else the plain image's soft labels)
     */
    public record Method(String name, DistillationLoss loss, boolean augment, boolean views, TrainingSettings training) {
        /** True when the method learns from hard labels alone. */
        public boolean hardLabels() {
            return DistillationLosses.hardLabelsOnly(loss);
        }

        /** The method's folder name: lower case letters, digits and dashes. */
        public String slug() {
            return CompareSettings.slug(name);
        }
    }

    /** Keys a method may set besides those of {@code kd.student.distillation}. */
    static final Set<String> METHOD_KEYS = Set.of("name", "augment", "views", "training");

    static CompareSettings read(SettingsReader kd, StudentSettings student, Augmentation augmentation) {
        SettingsReader c = kd.section("compare");
        int seeds = c.integer("seeds", 1, 100);
        double validation = c.numberIn("validation-fraction", 0.01, 0.5);
        List<Method> methods = new ArrayList<>();
        List<? extends Config> raw = c.configList("methods");
        Config distillation = kd.config().getConfig("student.distillation");
        Set<String> distillationKeys = distillation.root().keySet();
        Set<String> names = new HashSet<>();
        Set<String> slugs = new HashSet<>();
        for (int i = 0; i < raw.size(); i++) {
            Config m = raw.get(i);
            SettingsReader r = c.over(m, c.fullKey("methods") + "[" + i + "]");
            for (String key : m.root().keySet()) {
                if (!METHOD_KEYS.contains(key) && !distillationKeys.contains(key)) {
                    List<String> valid = new ArrayList<>(METHOD_KEYS);
                    valid.addAll(distillationKeys);
                    java.util.Collections.sort(valid);
                    r.problem(key, "unknown key in a comparison method; a method takes " + String.join(", ", valid)
                            + " (its loss settings fall back to kd.student.distillation)");
                }
            }
            checkNestedKeys(kd, r, m);
            String name = m.hasPath("name") ? r.string("name").trim() : "";
            if (name.isEmpty()) {
                r.problem("name", "each method needs a name, e.g. name = \"hinton T=4\"");
                name = "method " + (i + 1);
            } else if (!names.add(name)) {
                r.problem("name", "two methods are named \"" + name + "\"; names must differ");
            } else if (!slugs.add(slug(name))) {
                r.problem("name", "\"" + name + "\" is kept in the same folder as an earlier method (compare/"
                        + slug(name) + "/); names must differ in their letters or digits");
            }
            boolean augment = m.hasPath("augment") ? r.bool("augment")
                    : m.hasPath("training.augment") ? r.bool("training.augment") : student.training().augment();
            if (augment && !augmentation.enabled() && (m.hasPath("augment") || m.hasPath("training.augment"))) {
                r.problem("augment", "is true but kd.augment draws no views: set kd.augment.shift, kd.augment.flip or"
                        + " kd.augment.crop.scale (e.g. shift = 2, flip = 0.5)");
            }
            boolean views = !m.hasPath("views") || r.bool("views");
            TrainingSettings training = !m.hasPath("training") ? student.training()
                    : readOver(kd, r.section("training"), "student.training", TrainingSettings::read);
            Config loss = m.withoutPath("name").withoutPath("augment").withoutPath("views").withoutPath("training");
            DistillationLoss read = readOver(kd, c.over(loss, r.prefix()), "student.distillation",
                    DistillationLosses::read);
            methods.add(new Method(name, read, augment, views, training.withAugment(augment)));
        }
        if (!raw.isEmpty() && methods.stream().noneMatch(Method::hardLabels)) {
            c.problem("methods", "needs at least one hard-label method (loss = cross-entropy) to measure the gain"
                    + " over, e.g. { name = \"hard labels\", loss = cross-entropy }");
        }
        if (raw.isEmpty()) {
            c.problem("methods", "lists no methods; list at least a hard-label method and a distillation method");
        }
        return new CompareSettings(seeds, validation, List.copyOf(methods));
    }

    /**
     * Reports misspelt keys inside a method's sections ({@code training { ... }}, {@code dkd { ... }}, …),
     * checked against {@code kd.student.training} and {@code kd.student.distillation}; the method's own
     * top-level keys are checked by the caller.
     */
    private static void checkNestedKeys(SettingsReader kd, SettingsReader r, Config m) {
        Config reference = kd.config().atPath("kd");
        List<dev.distill.settings.Problem> found = new ArrayList<>();
        for (var e : m.root().entrySet()) {
            boolean training = "training".equals(e.getKey());
            if (e.getValue().valueType() != com.typesafe.config.ConfigValueType.OBJECT
                    || !(training || reference.hasPath("kd.student.distillation." + e.getKey()))) {
                continue;   // a single value, or a key the caller reports as unknown
            }
            String under = training ? "kd.student" : "kd.student.distillation";
            for (var p : dev.distill.settings.UnknownKeys.find(m.withOnlyPath(e.getKey()).atPath(under), reference, under,
                    Set.of())) {
                found.add(new dev.distill.settings.Problem(r.prefix() + p.key().substring(under.length()), p.origin(),
                        p.value(), p.message()));
            }
        }
        kd.problems().addAll(found);
    }

    /**
     * Reads {@code own} (a method's section, its settings over {@code kd.<fallback>}) with {@code read}. A problem
     * with a value the method takes from {@code kd.<fallback>} is reported once, there, when it was reported
     * there already (the student read it too); else here, under the method that uses it.
     */
    private static <T> T readOver(SettingsReader kd, SettingsReader own, String fallback,
                                  java.util.function.Function<SettingsReader, T> read) {
        int before = kd.problems().size();
        Set<String> reported = new HashSet<>();
        kd.problems().forEach(p -> reported.add(p.key()));
        String prefix = own.prefix() + ".";
        T value = read.apply(own.over(own.config().withFallback(kd.config().getConfig(fallback)), own.prefix()));
        kd.problems().subList(before, kd.problems().size()).removeIf(p -> p.key().startsWith(prefix)
                && !own.config().hasPath(p.key().substring(prefix.length()))
                && reported.contains("kd." + fallback + "." + p.key().substring(prefix.length())));
        return value;
    }

    /** The folder name of a method named {@code name}: lower case letters, digits and dashes. */
    static String slug(String name) {
        String s = name.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
        return s.isEmpty() ? "method" : s;
    }
}
