using Microsoft.ML.ConvNet.Data.Augmentation;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.ConvNet.Tests.Infrastructure;
using Microsoft.ML.ConvNet.Vision;

namespace Microsoft.ML.ConvNet.Tests.Data.Augmentation;

[TestClass]
public sealed class AugmentationTests
{
    private static float[] Ramp(int size) => Enumerable.Range(0, size).Select(i => (float)i).ToArray();

    private static float[] RandomImage(int seed, int size)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, size).Select(_ => (float)rng.NextDouble()).ToArray();
    }

    [TestMethod]
    public void FlipsMirrorEveryPlane()
    {
        var img = Ramp(2 * 3 * 4);
        var h = (float[])img.Clone();
        new RandomHorizontalFlip(1).Apply(h, 2, 3, 4, new Random(1));
        var v = (float[])img.Clone();
        new RandomVerticalFlip(1).Apply(v, 2, 3, 4, new Random(1));
        for (int c = 0; c < 2; c++)
        {
            for (int y = 0; y < 3; y++)
            {
                for (int x = 0; x < 4; x++)
                {
                    Assert.AreEqual(img[(c * 3 + y) * 4 + 3 - x], h[(c * 3 + y) * 4 + x]);
                    Assert.AreEqual(img[(c * 3 + 2 - y) * 4 + x], v[(c * 3 + y) * 4 + x]);
                }
            }
        }
    }

    [TestMethod]
    [DataRow(BorderMode.Constant)]
    [DataRow(BorderMode.Reflect101)]
    [DataRow(BorderMode.Replicate)]
    public void RandomCropIsACropOfThePaddedImage(BorderMode border)
    {
        const int c = 2, h = 7, w = 6, p = 3;
        var img = RandomImage(2, c * h * w);
        for (int seed = 0; seed < 20; seed++)
        {
            var actual = (float[])img.Clone();
            new RandomCrop(p, border, fill: -1f).Apply(actual, c, h, w, new Random(seed));
            // The same draws: the window's top-left corner in the padded image.
            var rng = new Random(seed);
            int ox = rng.Next(2 * p + 1), oy = rng.Next(2 * p + 1);
            // Pad explicitly, then crop.
            int ph = h + 2 * p, pw = w + 2 * p;
            var padded = new float[c * ph * pw];
            for (int ch = 0; ch < c; ch++)
            {
                for (int y = 0; y < ph; y++)
                {
                    for (int x = 0; x < pw; x++)
                    {
                        int sy = ImageWarp.BorderIndex(y - p, h, border), sx = ImageWarp.BorderIndex(x - p, w, border);
                        padded[(ch * ph + y) * pw + x] = sy < 0 || sx < 0 ? -1f : img[(ch * h + sy) * w + sx];
                    }
                }
            }
            for (int ch = 0; ch < c; ch++)
            {
                for (int y = 0; y < h; y++)
                {
                    for (int x = 0; x < w; x++)
                    {
                        Assert.AreEqual(padded[(ch * ph + y + oy) * pw + x + ox], actual[(ch * h + y) * w + x], $"seed {seed} at {ch},{y},{x}");
                    }
                }
            }
        }
    }

    [TestMethod]
    public void RandomCropRelativePaddingScalesWithTheImage()
    {
        var crop = RandomCrop.Relative(0.125);
        Assert.AreEqual(4, crop.PaddingFor(32, 32));
        Assert.AreEqual(4, crop.PaddingFor(28, 40));
        Assert.AreEqual(28, crop.PaddingFor(224, 224));
        Assert.AreEqual(1, crop.PaddingFor(3, 3));
    }

    [TestMethod]
    public void RotationAndAffineWarpWithTheDrawnMatrix()
    {
        const int c = 3, h = 10, w = 9;
        var img = RandomImage(3, c * h * w);
        foreach (RandomAffine t in new RandomAffine[] { new RandomRotation(30, BorderMode.Reflect101), new RandomAffine(20, 0.2, 0.8, 1.2, 10, BorderMode.Replicate) })
        {
            var actual = (float[])img.Clone();
            t.Apply(actual, c, h, w, new Random(9));
            var m = t.DrawMatrix(h, w, new Random(9));
            var expected = new float[img.Length];
            ImageWarp.WarpAffine(img, expected, c, h, w, m, t.Border, t.Fill);
            CollectionAssert.AreEqual(expected, actual, t.ToString());
            Assert.AreNotEqual(AffineMatrix.Identity, m);
        }
        // A rotation's matrix is OpenCV's getRotationMatrix2D about the centre.
        var rot = new RandomRotation(30).DrawMatrix(h, w, new Random(5));
        double angle = Math.Atan2(rot.M01, rot.M00) * 180 / Math.PI;
        Assert.IsLessThanOrEqualTo(30.0, Math.Abs(angle));
        var expectedRot = AffineMatrix.Rotation((w - 1) / 2.0, (h - 1) / 2.0, angle);
        Assert.AreEqual(expectedRot.M02, rot.M02, 1e-9);
        Assert.AreEqual(expectedRot.M12, rot.M12, 1e-9);
    }

    [TestMethod]
    public void RandomResizedCropResizesTheDrawnRegion()
    {
        const int c = 1, h = 20, w = 16;
        var img = RandomImage(4, c * h * w);
        var t = new RandomResizedCrop(0.3, 0.7);
        for (int seed = 0; seed < 10; seed++)
        {
            var actual = (float[])img.Clone();
            t.Apply(actual, c, h, w, new Random(seed));
            var (left, top, rw, rh) = t.DrawRegion(h, w, new Random(seed));
            double area = (double)rw * rh / (h * w);
            Assert.IsTrue(area > 0.2 && area < 0.85, $"area {area}");
            var expected = new float[img.Length];
            ImageWarp.ResizeRegion(img, c, h, w, left, top, rw, rh, expected, h, w);
            CollectionAssert.AreEqual(expected, actual);
        }
    }

    [TestMethod]
    public void ElasticDeformationMovesPixelsSmoothlyAndZeroAlphaKeepsTheImage()
    {
        const int h = 28, w = 28;
        var img = RandomImage(5, h * w);
        var same = (float[])img.Clone();
        new ElasticDeformation(alpha: 0, sigma: 3).Apply(same, 1, h, w, new Random(1));
        TensorAssert.AreClose(img, same, 1e-6, 0);
        // A linear ramp stays within its range and changes by a bounded displacement.
        var ramp = Enumerable.Range(0, h * w).Select(i => (float)(i % w)).ToArray();
        var moved = (float[])ramp.Clone();
        new ElasticDeformation(alpha: 8, sigma: 4, border: BorderMode.Replicate).Apply(moved, 1, h, w, new Random(2));
        Assert.IsTrue(moved.Zip(ramp).Any(p => Math.Abs(p.First - p.Second) > 0.05), "the field moved nothing");
        Assert.IsTrue(moved.All(v => v >= 0 && v <= w - 1), "values left the ramp's range");
    }

    [TestMethod]
    public void PhotometricTransformsFollowTheirFormulas()
    {
        const int c = 3, h = 4, w = 5, plane = h * w;
        var img = RandomImage(6, c * plane);
        // Brightness alone: every pixel times the same factor.
        var b = (float[])img.Clone();
        new ColorJitter(brightness: 0.5).Apply(b, c, h, w, new Random(1));
        double factor = b[0] / img[0];
        Assert.IsTrue(factor >= 0.5 && factor <= 1.5);
        TensorAssert.AreClose(img.Select(v => (float)(v * factor)).ToArray(), b, 1e-5, 1e-5);
        // Saturation 0 → −1..1 factor around grey keeps the grey level of each pixel.
        var s = (float[])img.Clone();
        new ColorJitter(saturation: 1).Apply(s, c, h, w, new Random(2));
        for (int i = 0; i < plane; i++)
        {
            float g0 = 0.299f * img[i] + 0.587f * img[plane + i] + 0.114f * img[2 * plane + i];
            float g1 = 0.299f * s[i] + 0.587f * s[plane + i] + 0.114f * s[2 * plane + i];
            Assert.AreEqual(g0, g1, 1e-5);
        }
        // Contrast keeps the mean grey level.
        var k = (float[])img.Clone();
        new ColorJitter(contrast: 0.8).Apply(k, c, h, w, new Random(3));
        double Mean(float[] x) => Enumerable.Range(0, plane).Average(i => 0.299 * x[i] + 0.587 * x[plane + i] + 0.114 * x[2 * plane + i]);
        Assert.AreEqual(Mean(img), Mean(k), 1e-5);
        // Noise: mean and spread as asked.
        var big = new float[1 * 100 * 100];
        new GaussianNoise(0.5, 1).Apply(big, 1, 100, 100, new Random(4));
        double m = big.Average(), sd = Math.Sqrt(big.Average(v => (v - m) * (v - m)));
        Assert.AreEqual(1, m, 0.03);
        Assert.AreEqual(0.5, sd, 0.03);
    }

    [TestMethod]
    public void RandomErasingWritesOneRectangleInEveryChannel()
    {
        const int c = 2, h = 12, w = 10;
        var img = Enumerable.Repeat(1f, c * h * w).ToArray();
        new RandomErasing(probability: 1, value: -2f).Apply(img, c, h, w, new Random(7));
        var erased = Enumerable.Range(0, h * w).Where(i => img[i] == -2f).ToList();
        Assert.IsNotEmpty(erased);
        int x0 = erased.Min(i => i % w), x1 = erased.Max(i => i % w), y0 = erased.Min(i => i / w), y1 = erased.Max(i => i / w);
        Assert.AreEqual((x1 - x0 + 1) * (y1 - y0 + 1), erased.Count, "not a rectangle");
        double area = erased.Count / (double)(h * w);
        Assert.IsTrue(area >= 0.01 && area <= 0.4, $"area {area}");
        CollectionAssert.AreEqual(erased, Enumerable.Range(0, h * w).Where(i => img[h * w + i] == -2f).ToList());
    }

    [TestMethod]
    public void RandomBackgroundCompositesOverTheMask()
    {
        const int h = 3, w = 4, plane = h * w;
        var img = new float[4 * plane];
        for (int i = 0; i < plane; i++)
        {
            img[i] = 0.9f;
            img[plane + i] = 0.5f;
            img[2 * plane + i] = 0.1f;
            img[3 * plane + i] = i < plane / 2 ? 1f : 0f; // opaque top half, transparent bottom half
        }
        var bg = new float[3 * plane];
        Array.Fill(bg, 0.25f);
        new RandomBackground(backgrounds: [bg]).Apply(img, 4, h, w, new Random(1));
        for (int i = 0; i < plane; i++)
        {
            Assert.AreEqual(i < plane / 2 ? 0.9f : 0.25f, img[i]);
            Assert.AreEqual(i < plane / 2 ? 0.1f : 0.25f, img[2 * plane + i]);
            Assert.AreEqual(1f, img[3 * plane + i]);
        }
        var ex = Assert.ThrowsExactly<ArgumentException>(() => new RandomBackground().Apply(new float[plane], 1, h, w, new Random(1)));
        StringAssert.Contains(ex.Message, "alpha");
    }

    [TestMethod]
    public void ProbabilityGatesEachStep()
    {
        var img = Ramp(1 * 2 * 5);
        var never = (float[])img.Clone();
        new Compose(new RandomHorizontalFlip(0), new RandomCrop(2) { Probability = 0 }).Apply(never, 1, 2, 5, new Random(1));
        CollectionAssert.AreEqual(img, never);
        int flipped = 0;
        var rng = new Random(2);
        for (int i = 0; i < 2000; i++)
        {
            var x = (float[])img.Clone();
            new RandomHorizontalFlip(0.3).Apply(x, 1, 2, 5, rng);
            flipped += x[0] == 4f ? 1 : 0;
        }
        Assert.AreEqual(0.3, flipped / 2000.0, 0.04);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new RandomRotation(10) { Probability = 1.5 });
        var bad = Assert.ThrowsExactly<ArgumentException>(() => new RandomHorizontalFlip().Apply(new float[10], 1, 3, 3, new Random(1)));
        StringAssert.Contains(bad.Message, "RandomHorizontalFlip");
    }

    /// <summary>n samples [c, 6, 6] with distinct values, labels i mod 3.</summary>
    private static ImageDataset Images(int n, int c = 1)
    {
        var rng = new Random(11);
        var images = Enumerable.Range(0, n * c * 36).Select(_ => (float)rng.NextDouble()).ToArray();
        return new ImageDataset(images, new Shape(c, 6, 6), Enumerable.Range(0, n).Select(i => i % 3).ToArray(), ["a", "b", "c"]);
    }

    private static List<float[]> Batches(ImageDataset data, int prefetch, int seed, ImageAugmentation augmentation, BatchMixing? mixing = null, int epochs = 2)
    {
        var loader = new BatchLoader(data, new BatchLoaderOptions { BatchSize = 8, Seed = seed, PrefetchDepth = prefetch, Augmentation = augmentation, Mixing = mixing });
        var result = new List<float[]>();
        for (int e = 0; e < epochs; e++)
        {
            foreach (var batch in loader.GetBatches(e))
            {
                using (batch)
                {
                    result.Add([.. batch.Images.ToArray(), .. batch.Targets ?? []]);
                }
            }
        }
        return result;
    }

    [TestMethod]
    public void TheSameSeedGivesTheSameAugmentedBatchesWithAndWithoutPrefetching()
    {
        var data = Images(37, 3);
        var augment = new Compose(new RandomCrop(2, BorderMode.Reflect101), new RandomHorizontalFlip(), new RandomRotation(15) { Probability = 0.5 },
            new ColorJitter(0.2, 0.2, 0.2), new GaussianNoise(0.05), new RandomErasing(0.5));
        var direct = Batches(data, 0, 5, augment, new Mixup(0.4));
        var prefetched = Batches(data, 3, 5, augment, new Mixup(0.4));
        var again = Batches(data, 2, 5, augment, new Mixup(0.4));
        Assert.HasCount(10, direct);
        for (int i = 0; i < direct.Count; i++)
        {
            CollectionAssert.AreEqual(direct[i], prefetched[i], $"batch {i}");
            CollectionAssert.AreEqual(direct[i], again[i], $"batch {i}");
        }
        var otherSeed = Batches(data, 2, 6, augment, new Mixup(0.4));
        Assert.IsFalse(direct[0].SequenceEqual(otherSeed[0]), "another seed gave the same batch");
        // Each batch differs from the plain images: the augmentation ran.
        var plain = new BatchLoader(data, new BatchLoaderOptions { BatchSize = 8, Seed = 5 }).GetBatches(0).First();
        using (plain)
        {
            Assert.IsFalse(plain.Images.ToArray().SequenceEqual(direct[0].Take(8 * 108)));
        }
    }

    [TestMethod]
    public void MixupAndCutMixWriteTargetsThatMatchTheImages()
    {
        const int n = 16, c = 2, h = 8, w = 8, size = c * h * w, classes = 4;
        var labels = Enumerable.Range(0, n).Select(i => i % classes).ToArray();
        // Image i is constant i + 1, so every pixel tells which images it came from.
        var images = new float[n * size];
        for (int i = 0; i < n; i++)
        {
            Array.Fill(images, i + 1f, i * size, size);
        }
        foreach (BatchMixing mixing in new BatchMixing[] { new Mixup(0.4), new CutMix(1.0) })
        {
            for (int seed = 0; seed < 5; seed++)
            {
                var x = (float[])images.Clone();
                var targets = new float[n * classes];
                mixing.Mix(x, labels, targets, c, h, w, classes, new Random(seed));
                for (int i = 0; i < n; i++)
                {
                    var row = targets.AsSpan(i * classes, classes);
                    float sum = 0;
                    foreach (float t in row)
                    {
                        sum += t;
                    }
                    Assert.AreEqual(1f, sum, 1e-5, $"{mixing} sample {i}");
                    var pixels = x.AsSpan(i * size, size).ToArray();
                    if (mixing is CutMix)
                    {
                        // The share of the image's own pixels is its own label's weight (when the partner has another label).
                        double own = pixels.Count(v => v == i + 1f) / (double)size;
                        var partners = pixels.Where(v => v != i + 1f).Distinct().ToList();
                        Assert.IsLessThanOrEqualTo(1, partners.Count);
                        if (partners.Count == 1 && labels[(int)partners[0] - 1] != labels[i])
                        {
                            Assert.AreEqual(own, row[labels[i]], 1e-6);
                        }
                    }
                    else
                    {
                        // All pixels equal λ·(i + 1) + (1 − λ)·(j + 1).
                        Assert.IsTrue(pixels.All(v => Math.Abs(v - pixels[0]) < 1e-5));
                    }
                }
            }
        }
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Mixup(0));
        var ex = Assert.ThrowsExactly<ArgumentException>(() => new Mixup().Mix(new float[size], [7], new float[classes], c, h, w, classes, new Random(1)));
        StringAssert.Contains(ex.Message, "label 7");
    }

    [TestMethod]
    public void BetaSamplesHaveTheRightMean()
    {
        var rng = new Random(1);
        foreach (double a in new[] { 0.2, 1.0, 2.0 })
        {
            var draws = Enumerable.Range(0, 4000).Select(_ => BatchMixing.SampleBeta(rng, a)).ToArray();
            Assert.IsTrue(draws.All(v => v >= 0 && v <= 1));
            Assert.AreEqual(0.5, draws.Average(), 0.03, $"alpha {a}");
            // Var(Beta(a, a)) = 1 / (4 (2a + 1)).
            double variance = draws.Average(v => (v - 0.5) * (v - 0.5));
            Assert.AreEqual(1 / (4 * (2 * a + 1)), variance, 0.02, $"alpha {a}");
        }
    }

    [TestMethod]
    public void SpecParsesStepsAndNamesTheBadToken()
    {
        var spec = AugmentationSpec.Parse("flip,crop:4:reflect,rotate:10@0.5,erase:0.25,mixup:0.3");
        var steps = ((Compose)spec.Augmentation!).Steps;
        Assert.HasCount(4, steps);
        Assert.IsInstanceOfType<RandomHorizontalFlip>(steps[0]);
        Assert.AreEqual(4, ((RandomCrop)steps[1]).Padding);
        Assert.AreEqual(BorderMode.Reflect101, ((RandomCrop)steps[1]).Border);
        Assert.AreEqual(0.5, steps[2].Probability);
        Assert.AreEqual(0.25, steps[3].Probability);
        Assert.AreEqual(0.3, ((Mixup)spec.Mixing!).Alpha);
        Assert.IsNull(AugmentationSpec.Parse("none").Augmentation);
        Assert.IsInstanceOfType<RandomAffine>(AugmentationSpec.Parse("affine:10:0.1:0.1:5").Augmentation);
        Assert.IsInstanceOfType<CutMix>(AugmentationSpec.Parse("flip,cutmix").Mixing);
        foreach (var (text, token, what) in new[]
        {
            ("flip,rotat:10", "rotat:10", "unknown step 'rotat'"),
            ("flip,crop", "crop", "needs a padding"),
            ("crop:x", "crop:x", "'x' is not a number"),
            ("crop:2.5", "crop:2.5", "whole number"),
            ("crop:2:mirror", "crop:2:mirror", "unknown border 'mirror'"),
            ("rotate:10@2", "rotate:10@2", "probability"),
            ("flip:0.5:1", "flip:0.5:1", "at most 1"),
            ("mixup,cutmix", "cutmix", "only one of mixup and cutmix"),
            ("mixup@0.5", "mixup@0.5", "no '@' probability"),
            ("blur:4", "blur:4", "odd"),
        })
        {
            var ex = Assert.ThrowsExactly<FormatException>(() => AugmentationSpec.Parse(text), text);
            StringAssert.Contains(ex.Message, $"'{token}'", text);
            StringAssert.Contains(ex.Message, what, text);
        }
        StringAssert.Contains(Assert.ThrowsExactly<FormatException>(() => AugmentationSpec.Parse("flip,,crop:2")).Message, "empty step");
    }
}
