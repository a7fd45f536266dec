using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Onnx;

namespace Microsoft.ML.ConvNet.Tests.Fuzz;

/// <summary>
/// The fuzz suite: seeded mutations (truncation at every chunk or section boundary, bit flips, header field extremes,
/// random bytes) of every format the library reads, generated here from seed files made by code. Each case either
/// loads or raises <see cref="InvalidFileException"/> naming the file; nothing hangs (a timeout per case), no other
/// exception escapes, and nothing whose checksum (PNG chunk CRCs, zip CRC-32, gzip CRC-32, the SHA-256 of safetensors
/// and state dictionaries) or completeness (a truncated image) should have told loads with different content. Each
/// test prints its counts: tried / clear error / unsupported / loaded same / loaded changed (in a part of the format
/// without a checksum) / crash / hang / silent wrong.
/// </summary>
[TestClass]
public sealed class FuzzTests
{
    public TestContext TestContext { get; set; } = null!;

    private static FuzzCounts Images(string format, List<SeedFile> seeds, int count, int seed, string extension, bool checksummed)
    {
        var originals = seeds.ToDictionary(s => s.Name, s => Corpora.Decode(s.Bytes)!.Value);
        return FuzzHarness.Run($"image/{format}", Mutations.Generate(seeds, count, seed), extension, ImageFile.Check, (c, info) =>
        {
            var original = originals[c.Seed];
            var decoded = Corpora.Decode(c.Bytes);
            bool same = decoded is { } d && d.Width == original.Width && d.Height == original.Height && d.Pixels.AsSpan().SequenceEqual(original.Pixels);
            return same ? LoadedAs.Same : c.IsTruncation || checksummed ? LoadedAs.SilentlyWrong : LoadedAs.ChangedWithoutChecksum;
        });
    }

    [TestMethod]
    public void Png() => FuzzHarness.Report(TestContext, Images("png", Corpora.Png(), 500, 11, ".png", checksummed: true), 500);

    [TestMethod]
    public void Jpeg() => FuzzHarness.Report(TestContext, Images("jpeg", Corpora.Jpeg(), 450, 12, ".jpg", checksummed: false), 450);

    [TestMethod]
    public void Bmp() => FuzzHarness.Report(TestContext, Images("bmp", Corpora.Bmp(), 400, 13, ".bmp", checksummed: false), 400);

    [TestMethod]
    public void Gif() => FuzzHarness.Report(TestContext, Images("gif", Corpora.Gif(), 350, 14, ".gif", checksummed: false), 350);

    [TestMethod]
    public void Webp() => FuzzHarness.Report(TestContext, Images("webp", Corpora.Webp(), 350, 15, ".webp", checksummed: false), 350);

    [TestMethod]
    public void Idx()
    {
        var seeds = Corpora.Idx();
        var originals = seeds.ToDictionary(s => s.Name, s => IdxReader.Read(new MemoryStream(s.Bytes), s.Name));
        var counts = FuzzHarness.Run("idx", Mutations.Generate(seeds, 150, 16), ".idx", p => IdxReader.Read(p), (c, array) =>
        {
            var original = originals[c.Seed];
            bool same = array.Dimensions.SequenceEqual(original.Dimensions) && array.Data.AsSpan().SequenceEqual(original.Data);
            return same ? LoadedAs.Same : c.IsTruncation || c.Seed.EndsWith(".gz", StringComparison.Ordinal) ? LoadedAs.SilentlyWrong : LoadedAs.ChangedWithoutChecksum;
        });
        FuzzHarness.Report(TestContext, counts, 100);
    }

    [TestMethod]
    public void Safetensors()
    {
        var seeds = Corpora.Safetensors();
        var originals = seeds.ToDictionary(s => s.Name, s => Microsoft.ML.ConvNet.IO.Safetensors.Read(new MemoryStream(s.Bytes)));
        var counts = FuzzHarness.Run("safetensors", Mutations.Generate(seeds, 250, 17), ".safetensors", p => (Path: p, Tensors: Microsoft.ML.ConvNet.IO.Safetensors.Read(p)), (c, loaded) =>
        {
            var original = originals[c.Seed];
            bool same = loaded.Tensors.Count == original.Count && original.All(o => loaded.Tensors.TryGetValue(o.Key, out var t)
                && t.Shape == o.Value.Shape && t.Values.AsSpan().SequenceEqual(o.Value.Values));
            bool checksummed = Microsoft.ML.ConvNet.IO.Safetensors.ReadMetadata(loaded.Path).ContainsKey(Microsoft.ML.ConvNet.IO.Safetensors.Sha256Key);
            return same ? LoadedAs.Same : checksummed || c.IsTruncation ? LoadedAs.SilentlyWrong : LoadedAs.ChangedWithoutChecksum;
        });
        FuzzHarness.Report(TestContext, counts, 200);
    }

    [TestMethod]
    public void StateDict()
    {
        var seeds = Corpora.StateDict();
        var (originalValues, _) = StateDictFile.Read(new MemoryStream(seeds[0].Bytes), "seed");
        var counts = FuzzHarness.Run("state dict", Mutations.Generate(seeds, 150, 18), ".bin", StateDictFile.Read, (c, loaded) =>
        {
            bool same = loaded.Values.Count == originalValues.Count && originalValues.All(o => loaded.Values.TryGetValue(o.Key, out var v) && v.AsSpan().SequenceEqual(o.Value));
            bool checksummed = BitConverter.ToInt32(c.Bytes, 4) >= 2;
            return same ? LoadedAs.Same : checksummed || c.IsTruncation ? LoadedAs.SilentlyWrong : LoadedAs.ChangedWithoutChecksum;
        });
        FuzzHarness.Report(TestContext, counts, 100);
    }

    [TestMethod]
    public void Onnx()
    {
        var seeds = Corpora.Onnx();
        var original = OnnxModel.Load(new MemoryStream(seeds[0].Bytes), "seed").StateDict().ToDictionary(p => p.Key, p => p.Value.ToArray());
        var cases = Mutations.Generate(seeds, 180, 19);
        cases.AddRange(Corpora.OnnxVarintExtremes(seeds[0], 60));
        var counts = FuzzHarness.Run("onnx", cases, ".onnx", p =>
        {
            using var module = OnnxModel.Load(p);
            return module.StateDict().ToDictionary(q => q.Key, q => q.Value.ToArray());
        }, (c, state) =>
        {
            bool same = state.Count == original.Count && original.All(o => state.TryGetValue(o.Key, out var v) && v.AsSpan().SequenceEqual(o.Value));
            // ONNX carries no checksum: a changed weight that still parses cannot be told; a truncated file must not load.
            return same ? LoadedAs.Same : c.IsTruncation ? LoadedAs.SilentlyWrong : LoadedAs.ChangedWithoutChecksum;
        }, namedNotSupportedIsClear: true);
        FuzzHarness.Report(TestContext, counts, 200);
    }

    [TestMethod]
    public void ModelZip()
    {
        var ml = new MLContext(1);
        var seed = Corpora.ModelZip(ml);
        string seedPath = Path.Combine(Path.GetTempPath(), $"convnet-fuzz-seed-{Guid.NewGuid():N}.zip");
        File.WriteAllBytes(seedPath, seed.Bytes);
        float[] original;
        try
        {
            original = Corpora.Scores(ml, ModelFile.Load(ml, seedPath, out _));
        }
        finally
        {
            File.Delete(seedPath);
        }
        // Truncations, header extremes and random mutations, plus 200 bit-flip cases also run through ML.NET's loader alone.
        var cases = Mutations.Generate([seed], 300, 20);
        var random = new Random(21);
        for (int i = 0; i < 200; i++)
        {
            var bytes = (byte[])seed.Bytes.Clone();
            int count = 1 + i % 4;
            var where = new List<string>();
            for (int f = 0; f < count; f++)
            {
                int at = random.Next(bytes.Length), bit = random.Next(8);
                bytes[at] ^= (byte)(1 << bit);
                where.Add($"{at}.{bit}");
            }
            cases.Add(new FuzzCase(seed.Name, "flip", $"{count} bits ({string.Join(" ", where)})", bytes));
        }
        var counts = FuzzHarness.Run("model zip", cases, ".zip", p => Corpora.Scores(ml, ModelFile.Load(ml, p, out _)),
            (c, scores) => scores.AsSpan().SequenceEqual(original) ? LoadedAs.Same : LoadedAs.SilentlyWrong);

        // The reference: ML.NET's own loader, without the CRC check, on the bit-flip cases.
        var flips = cases.Where(c => c.Kind == "flip").ToList();
        var plain = FuzzHarness.Run("  ML.NET alone", flips, ".zip", p => Corpora.Scores(ml, ml.Model.Load(p, out _)),
            (c, scores) => scores.AsSpan().SequenceEqual(original) ? LoadedAs.Same : LoadedAs.SilentlyWrong);
        string reference = $"reference, bit-flipped zips through ml.Model.Load alone: {plain.Tried} tried, {plain.LoadedSame} load the same model, " +
            $"{plain.SilentWrong} load and score differently, {plain.Tried - plain.LoadedSame - plain.SilentWrong} fail (with ModelFile.Load: " +
            $"{flips.Count} tried, 0 silently different)";
        TestContext.WriteLine(reference);
        Console.WriteLine(reference);
        FuzzHarness.Report(TestContext, counts, 500);
    }
}
