using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Onnx;
using Microsoft.ML.ConvNet.Tensors;
using Microsoft.ML.Data;
using SkiaSharp;

namespace Microsoft.ML.ConvNet.Tests.Fuzz;

/// <summary>The seed files of the fuzz suite, made by code (no committed blobs), with their chunk boundaries and header fields.</summary>
internal static class Corpora
{
    // ---- images ---------------------------------------------------------------------------------

    /// <summary>A smooth colour pattern with some noise, so that every encoder has real data to encode.</summary>
    private static SKBitmap Picture(int width, int height, int seed)
    {
        var random = new Random(seed);
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int at = 4 * (y * width + x);
                pixels[at] = (byte)(x * 255 / width);
                pixels[at + 1] = (byte)(y * 255 / height);
                pixels[at + 2] = (byte)random.Next(256);
                pixels[at + 3] = 255;
            }
        }
        return bitmap;
    }

    private static byte[] Encode(int width, int height, int seed, SKEncodedImageFormat format, int quality)
    {
        using var bitmap = Picture(width, height, seed);
        using var data = bitmap.Encode(format, quality);
        return data.ToArray();
    }

    public static List<SeedFile> Png()
    {
        var seeds = new List<SeedFile>();
        foreach (var (w, h, seed) in new[] { (16, 12, 1), (9, 23, 2), (40, 3, 3) })
        {
            var bytes = Encode(w, h, seed, SKEncodedImageFormat.Png, 100);
            var boundaries = new List<int> { 8 };
            for (int at = 8; at + 12 <= bytes.Length;)
            {
                int length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at));
                boundaries.AddRange([at + 8, at + 8 + length / 2, at + 8 + length, at + 12 + length]);
                at += 12 + length;
            }
            seeds.Add(new SeedFile($"png{w}x{h}", bytes, boundaries,
            [
                new("width", 16, 4, true), new("height", 20, 4, true), new("bit depth", 24, 1, true), new("colour type", 25, 1, true),
                new("interlace", 28, 1, true), new("IHDR length", 8, 4, true), new("second chunk length", 33, 4, true),
            ], FixPngCrcs));
        }
        return seeds;
    }

    /// <summary>Recomputes every PNG chunk's CRC-32, so that a header extreme reaches the decoder rather than the checksum.</summary>
    private static byte[] FixPngCrcs(byte[] bytes)
    {
        for (int at = 8; at + 12 <= bytes.Length;)
        {
            long length = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at));
            if (length > bytes.Length - at - 12)
            {
                break;
            }
            uint crc = System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(at + 4, 4 + (int)length));
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(at + 8 + (int)length), crc);
            at += 12 + (int)length;
        }
        return bytes;
    }

    public static List<SeedFile> Jpeg()
    {
        var seeds = new List<SeedFile>();
        foreach (var (w, h, seed, quality) in new[] { (16, 16, 4, 90), (23, 9, 5, 50), (8, 40, 6, 75) })
        {
            var bytes = Encode(w, h, seed, SKEncodedImageFormat.Jpeg, quality);
            var boundaries = new List<int>();
            var fields = new List<HeaderField>();
            int at = 2;
            while (at + 4 <= bytes.Length && bytes[at] == 0xFF)
            {
                byte marker = bytes[at + 1];
                int length = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(at + 2));
                boundaries.AddRange([at, at + 4]);
                fields.Add(new($"segment {marker:X2} length", at + 2, 2, true));
                if (marker is 0xC0 or 0xC2)
                {
                    fields.AddRange([new("SOF precision", at + 4, 1, true), new("SOF height", at + 5, 2, true), new("SOF width", at + 7, 2, true), new("SOF components", at + 9, 1, true)]);
                }
                if (marker == 0xDA)
                {
                    int scan = at + 2 + length;
                    boundaries.AddRange([scan, scan + (bytes.Length - scan) / 4, scan + (bytes.Length - scan) / 2, scan + 3 * (bytes.Length - scan) / 4, bytes.Length - 2]);
                    break;
                }
                at += 2 + length;
            }
            seeds.Add(new SeedFile($"jpeg{w}x{h}q{quality}", bytes, boundaries, fields));
        }
        return seeds;
    }

    public static List<SeedFile> Webp()
    {
        var seeds = new List<SeedFile>();
        foreach (var (w, h, seed, quality) in new[] { (16, 16, 7, 80), (21, 11, 8, 100) })
        {
            var bytes = Encode(w, h, seed, SKEncodedImageFormat.Webp, quality);
            var boundaries = new List<int> { 4, 8, 12 };
            var fields = new List<HeaderField> { new("RIFF size", 4, 4, false) };
            for (int at = 12; at + 8 <= bytes.Length;)
            {
                int size = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at + 4));
                string fourcc = System.Text.Encoding.ASCII.GetString(bytes, at, 4);
                boundaries.AddRange([at, at + 8, at + 8 + size / 4, at + 8 + size / 2, at + 8 + size]);
                fields.Add(new($"{fourcc.Trim()} size", at + 4, 4, false));
                if (fourcc == "VP8 " && at + 20 <= bytes.Length)
                {
                    fields.AddRange([new("VP8 width", at + 14, 2, false), new("VP8 height", at + 16, 2, false)]);
                }
                if (fourcc == "VP8L" && at + 13 <= bytes.Length)
                {
                    fields.Add(new("VP8L size bits", at + 9, 4, false));
                }
                at += 8 + size + (size & 1);
            }
            seeds.Add(new SeedFile($"webp{w}x{h}q{quality}", bytes, boundaries, fields));
        }
        return seeds;
    }

    public static List<SeedFile> Bmp()
    {
        var seeds = new List<SeedFile>();
        foreach (var (w, h, bits) in new[] { (13, 7, 24), (10, 6, 8), (17, 5, 32) })
        {
            int rowBytes = (w * bits / 8 + 3) & ~3;
            int palette = bits == 8 ? 256 * 4 : 0;
            int dataOffset = 54 + palette;
            var bytes = new byte[dataOffset + rowBytes * h];
            bytes[0] = (byte)'B';
            bytes[1] = (byte)'M';
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), bytes.Length);
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), dataOffset);
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), w);
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), h);
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(26), 1);
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(28), (short)bits);
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(34), rowBytes * h);
            if (bits == 8)
            {
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(46), 256);
                for (int i = 0; i < 256; i++)
                {
                    bytes[54 + 4 * i] = (byte)i;
                    bytes[54 + 4 * i + 1] = (byte)(255 - i);
                    bytes[54 + 4 * i + 2] = (byte)(i * 7);
                }
            }
            new Random(w * h).NextBytes(bytes.AsSpan(dataOffset));
            var boundaries = new List<int> { 2, 14, 54 };
            if (palette > 0)
            {
                boundaries.Add(54 + palette / 2);
            }
            boundaries.AddRange(Enumerable.Range(0, h + 1).Select(r => dataOffset + r * rowBytes));
            seeds.Add(new SeedFile($"bmp{w}x{h}x{bits}", bytes, boundaries,
            [
                new("file size", 2, 4, false), new("data offset", 10, 4, false), new("header size", 14, 4, false), new("width", 18, 4, false),
                new("height", 22, 4, false), new("planes", 26, 2, false), new("bits per pixel", 28, 2, false), new("compression", 30, 4, false),
                new("image size", 34, 4, false), new("colours used", 46, 4, false),
            ]));
        }
        return seeds;
    }

    /// <summary>GIF89a files written here: a 128-colour palette and LZW codes of 8 bits (a clear code every 100 pixels keeps the width).</summary>
    public static List<SeedFile> Gif()
    {
        var seeds = new List<SeedFile>();
        foreach (var (w, h, seed) in new[] { (12, 10, 9), (30, 7, 10) })
        {
            var random = new Random(seed);
            var bytes = new List<byte>();
            bytes.AddRange("GIF89a"u8.ToArray());
            bytes.AddRange([(byte)w, (byte)(w >> 8), (byte)h, (byte)(h >> 8), 0x80 | 0x70 | 6, 0, 0]);
            for (int i = 0; i < 128; i++)
            {
                bytes.AddRange([(byte)(2 * i), (byte)(255 - 2 * i), (byte)random.Next(256)]);
            }
            int descriptor = bytes.Count;
            bytes.AddRange([0x2C, 0, 0, 0, 0, (byte)w, (byte)(w >> 8), (byte)h, (byte)(h >> 8), 0]);
            int lzwAt = bytes.Count;
            bytes.Add(7);
            var codes = new List<int> { 128 };
            for (int p = 0; p < w * h; p++)
            {
                if (p > 0 && p % 100 == 0)
                {
                    codes.Add(128);
                }
                codes.Add(random.Next(128));
            }
            codes.Add(129);
            var packed = new List<byte>();
            int buffer = 0, bits = 0;
            foreach (int code in codes)
            {
                buffer |= code << bits;
                bits += 8;
                while (bits >= 8)
                {
                    packed.Add((byte)buffer);
                    buffer >>= 8;
                    bits -= 8;
                }
            }
            var boundaries = new List<int> { 6, 13, 13 + 384, descriptor, descriptor + 10, lzwAt + 1 };
            for (int at = 0; at < packed.Count; at += 255)
            {
                int n = Math.Min(255, packed.Count - at);
                boundaries.Add(bytes.Count);
                bytes.Add((byte)n);
                bytes.AddRange(packed.Skip(at).Take(n));
            }
            bytes.Add(0);
            boundaries.Add(bytes.Count);
            bytes.Add(0x3B);
            seeds.Add(new SeedFile($"gif{w}x{h}", [.. bytes], boundaries,
            [
                new("screen width", 6, 2, false), new("screen height", 8, 2, false), new("screen flags", 10, 1, false),
                new("image left", descriptor + 1, 2, false), new("image top", descriptor + 3, 2, false), new("image width", descriptor + 5, 2, false),
                new("image height", descriptor + 7, 2, false), new("image flags", descriptor + 9, 1, false), new("LZW code size", lzwAt, 1, false),
                new("first block length", lzwAt + 1, 1, false),
            ]));
        }
        return seeds;
    }

    /// <summary>The pixels SkiaSharp decodes from <paramref name="bytes"/> (RGBA), or null when it decodes nothing.</summary>
    public static (int Width, int Height, byte[] Pixels)? Decode(byte[] bytes)
    {
        using var codec = SKCodec.Create(new SKMemoryStream(SKData.CreateCopy(bytes)));
        if (codec == null)
        {
            return null;
        }
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var pixels = new byte[info.BytesSize];
        unsafe
        {
            fixed (byte* p = pixels)
            {
                codec.GetPixels(info, (IntPtr)p);
            }
        }
        return (info.Width, info.Height, pixels);
    }

    // ---- IDX -------------------------------------------------------------------------------------

    public static List<SeedFile> Idx()
    {
        var seeds = new List<SeedFile>();
        foreach (var (dims, gzip) in new[] { (new[] { 6, 5, 4 }, false), (new[] { 20 }, false), (new[] { 10, 3, 3 }, true) })
        {
            var data = new byte[dims.Aggregate(1, (a, b) => a * b)];
            new Random(dims.Sum()).NextBytes(data);
            using var ms = new MemoryStream();
            Microsoft.ML.ConvNet.Data.IdxWriter.Write(ms, dims, data);
            var raw = ms.ToArray();
            string name = $"idx[{string.Join("x", dims)}]{(gzip ? ".gz" : "")}";
            if (!gzip)
            {
                var boundaries = new List<int> { 2, 3, 4 };
                boundaries.AddRange(Enumerable.Range(1, dims.Length).Select(i => 4 + 4 * i));
                boundaries.AddRange([raw.Length / 2, raw.Length - 1]);
                var fields = new List<HeaderField> { new("type", 2, 1, true), new("rank", 3, 1, true) };
                fields.AddRange(dims.Select((_, i) => new HeaderField($"dimension {i}", 4 + 4 * i, 4, true)));
                seeds.Add(new SeedFile(name, raw, boundaries, fields));
            }
            else
            {
                using var zipped = new MemoryStream();
                using (var z = new GZipStream(zipped, CompressionLevel.Optimal, leaveOpen: true))
                {
                    z.Write(raw);
                }
                var bytes = zipped.ToArray();
                seeds.Add(new SeedFile(name, bytes, [2, 3, 10, bytes.Length / 2, bytes.Length - 8, bytes.Length - 4],
                    [new("gzip method", 2, 1, false), new("gzip flags", 3, 1, false), new("gzip CRC-32", bytes.Length - 8, 4, false), new("gzip size", bytes.Length - 4, 4, false)]));
            }
        }
        return seeds;
    }

    // ---- weights ---------------------------------------------------------------------------------

    /// <summary>A tiny network with every kind of state: convolution, batch norm (running statistics, a counter), linear.</summary>
    public static Module TinyNet(int classes = 3)
    {
        RandomSource.ManualSeed(5);
        return new Sequential(new Conv2d(1, 2, 3, padding: 1), new BatchNorm2d(2), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(2 * 3 * 3, classes));
    }

    public static List<SeedFile> Safetensors()
    {
        using var net = TinyNet();
        using var ms = new MemoryStream();
        net.SaveSafetensors(ms);
        var f32 = ms.ToArray();
        var half = Microsoft.ML.ConvNet.IO.Safetensors.Read(new MemoryStream(f32)).ToDictionary(
            p => p.Key, p => p.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal) ? p.Value : new SafetensorsTensor(p.Value.Shape, p.Value.Values, Microsoft.ML.ConvNet.IO.Safetensors.F16));
        using var ms2 = new MemoryStream();
        Microsoft.ML.ConvNet.IO.Safetensors.Write(ms2, half, new Dictionary<string, string> { ["format"] = "pt" });
        return [Layout("safetensors-f32", f32), Layout("safetensors-f16", ms2.ToArray())];

        static SeedFile Layout(string name, byte[] bytes)
        {
            long n = BinaryPrimitives.ReadInt64LittleEndian(bytes);
            var boundaries = new List<int> { 4, 8, 8 + (int)n / 2, 8 + (int)n };
            using var doc = System.Text.Json.JsonDocument.Parse(bytes.AsMemory(8, (int)n));
            foreach (var p in doc.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__"))
            {
                var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => (int)e.GetInt64()).ToArray();
                boundaries.AddRange([8 + (int)n + offsets[0], 8 + (int)n + (offsets[0] + offsets[1]) / 2]);
            }
            return new SeedFile(name, bytes, boundaries, [new("header length", 0, 8, false), new("header length low", 0, 4, false)]);
        }
    }

    public static List<SeedFile> StateDict()
    {
        using var net = TinyNet();
        using var ms = new MemoryStream();
        net.SaveStateDict(ms);
        var bytes = ms.ToArray();
        var boundaries = new List<int> { 4, 8, 12 };
        var fields = new List<HeaderField> { new("version", 4, 4, false), new("count", 8, 4, false) };
        int at = 12;
        for (int entry = 0; at < bytes.Length - 32; entry++)
        {
            int nameLength = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at));
            int rankAt = at + 4 + nameLength;
            int rank = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(rankAt));
            long size = 1;
            for (int d = 0; d < rank; d++)
            {
                size *= BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(rankAt + 4 + 4 * d));
            }
            int dataAt = rankAt + 4 + 4 * rank;
            boundaries.AddRange([at, at + 4, rankAt, rankAt + 4, dataAt, dataAt + (int)size * 2]);
            if (entry < 3)
            {
                fields.AddRange([new($"entry {entry} name length", at, 4, false), new($"entry {entry} rank", rankAt, 4, false)]);
                if (rank > 0)
                {
                    fields.Add(new($"entry {entry} dimension 0", rankAt + 4, 4, false));
                }
            }
            at = dataAt + (int)size * 4;
        }
        boundaries.Add(bytes.Length - 32);
        boundaries.Add(bytes.Length - 16);
        return [new SeedFile("statedict", bytes, boundaries, fields)];
    }

    // ---- ONNX ------------------------------------------------------------------------------------

    /// <summary>The tiny network exported to ONNX; the boundaries are the starts of the protobuf fields two levels deep.</summary>
    public static List<SeedFile> Onnx()
    {
        using var net = TinyNet();
        net.Eval();
        using var ms = new MemoryStream();
        net.ExportOnnx(ms, 1, 1, 6, 6);
        var bytes = ms.ToArray();
        var boundaries = new List<int>();
        Walk(bytes, 0, bytes.Length, depth: 0, boundaries, []);
        return [new SeedFile("onnx-tinynet", bytes, boundaries, [])];
    }

    /// <summary>Varint-valued fields and length prefixes of the ONNX seed, set to extreme varints (the file's length changes).</summary>
    public static List<FuzzCase> OnnxVarintExtremes(SeedFile seed, int max)
    {
        var places = new List<(int Start, int End, string What)>();
        Walk(seed.Bytes, 0, seed.Bytes.Length, 0, [], places);
        ulong[] values = [0, 1, 0x7FFF_FFFF, 0xFFFF_FFFF, 0x7FFF_FFFF_FFFF_FFFF, ulong.MaxValue];
        var cases = new List<FuzzCase>();
        foreach (var (start, end, what) in places)
        {
            foreach (ulong v in values)
            {
                var varint = new List<byte>();
                ulong x = v;
                do
                {
                    byte b = (byte)(x & 0x7F);
                    x >>= 7;
                    varint.Add(x != 0 ? (byte)(b | 0x80) : b);
                }
                while (x != 0);
                cases.Add(new FuzzCase(seed.Name, "extreme", $"{what} at {start}={v:X}", [.. seed.Bytes[..start], .. varint, .. seed.Bytes[end..]]));
            }
        }
        return cases.Count <= max ? cases : [.. cases.Where((_, i) => i % ((cases.Count + max - 1) / max) == 0).Take(max)];
    }

    /// <summary>
    /// Walks the protobuf fields of <paramref name="bytes"/>[start..end] (nested messages to depth 2), adding each field's
    /// start and each length-delimited payload's start to <paramref name="boundaries"/>, and each varint value and length
    /// prefix to <paramref name="varints"/>.
    /// </summary>
    private static void Walk(byte[] bytes, int start, int end, int depth, List<int> boundaries, List<(int Start, int End, string What)> varints)
    {
        int at = start;
        while (at < end)
        {
            boundaries.Add(at);
            if (!TryVarint(bytes, ref at, end, out ulong tag))
            {
                return;
            }
            int field = (int)(tag >> 3);
            int valueAt = at;
            switch ((int)(tag & 7))
            {
                case 0:
                    if (!TryVarint(bytes, ref at, end, out _))
                    {
                        return;
                    }
                    varints.Add((valueAt, at, $"depth {depth} field {field} value"));
                    break;
                case 1:
                    at += 8;
                    break;
                case 5:
                    at += 4;
                    break;
                case 2:
                    if (!TryVarint(bytes, ref at, end, out ulong length) || length > (ulong)(end - at))
                    {
                        return;
                    }
                    varints.Add((valueAt, at, $"depth {depth} field {field} length"));
                    boundaries.Add(at);
                    if (depth < 2)
                    {
                        Walk(bytes, at, at + (int)length, depth + 1, boundaries, varints);
                    }
                    at += (int)length;
                    break;
                default:
                    return;
            }
        }
    }

    private static bool TryVarint(byte[] bytes, ref int at, int end, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64 && at < end; shift += 7)
        {
            byte b = bytes[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }
        return false;
    }

    // ---- model zips ------------------------------------------------------------------------------

    /// <summary>A pixel row of the tiny model: a 1×6×6 image and its class name.</summary>
    public sealed class PixelRow
    {
        [VectorType(1, 6, 6)]
        public float[] Features { get; set; } = new float[36];

        public string Label { get; set; } = "";
    }

    /// <summary>Rows of three classes (bright, dark, striped), seeded.</summary>
    public static List<PixelRow> Rows(int count, int seed)
    {
        var random = new Random(seed);
        var rows = new List<PixelRow>();
        for (int i = 0; i < count; i++)
        {
            int c = i % 3;
            var f = new float[36];
            for (int p = 0; p < 36; p++)
            {
                f[p] = c switch { 0 => 0.8f, 1 => 0.1f, _ => p % 2 } + (float)random.NextDouble() * 0.1f;
            }
            rows.Add(new PixelRow { Features = f, Label = c switch { 0 => "bright", 1 => "dark", _ => "striped" } });
        }
        return rows;
    }

    /// <summary>
    /// The tiny network trained for one epoch in an ML.NET pipeline (<c>MapValueToKey → ConvNet → MapKeyToValue</c>)
    /// and saved by <c>Model.Save</c>: an ML.NET zip with the network as ONNX inside.
    /// </summary>
    public static SeedFile ModelZip(MLContext ml)
    {
        var data = ml.Data.LoadFromEnumerable(Rows(24, 1));
        var pipeline = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
            .Append(ml.MulticlassClassification.Trainers.ConvNet(new ConvNetTrainer.Options
            {
                LabelColumnName = "LabelKey", FeatureColumnName = "Features", Epochs = 1, BatchSize = 8, Seed = 1,
                ModelFactory = (classes, channels) => TinyNet(classes), Device = Microsoft.ML.ConvNet.Backends.Device.Cpu,
            }))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"));
        using var model = pipeline.Fit(data);
        using var ms = new MemoryStream();
        ml.Model.Save(model, data.Schema, ms);
        var bytes = ms.ToArray();

        var boundaries = new List<int>();
        var fields = new List<HeaderField>();
        int at = 0;
        for (int entry = 0; at + 30 <= bytes.Length && BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at)) == 0x04034B50; entry++)
        {
            int compressed = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at + 18));
            int name = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 26));
            int extra = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 28));
            int dataAt = at + 30 + name + extra;
            boundaries.AddRange([at, at + 30, dataAt, dataAt + compressed / 2, dataAt + compressed]);
            if (entry % 3 == 0)
            {
                fields.AddRange([
                    new($"entry {entry} method", at + 8, 2, false), new($"entry {entry} CRC", at + 14, 4, false),
                    new($"entry {entry} compressed size", at + 18, 4, false), new($"entry {entry} size", at + 22, 4, false),
                    new($"entry {entry} name length", at + 26, 2, false)]);
            }
            at = dataAt + compressed;
        }
        int eocd = bytes.Length - 22;
        for (int cd = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(eocd + 16)), entry = 0; cd < eocd; entry++)
        {
            boundaries.Add(cd);
            if (entry % 3 == 0)
            {
                fields.AddRange([new($"directory {entry} compressed size", cd + 20, 4, false), new($"directory {entry} size", cd + 24, 4, false),
                    new($"directory {entry} offset", cd + 42, 4, false)]);
            }
            cd += 46 + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(cd + 28)) + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(cd + 30))
                + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(cd + 32));
        }
        boundaries.AddRange([eocd, eocd + 10, eocd + 20]);
        fields.AddRange([new("entries on disk", eocd + 8, 2, false), new("entries", eocd + 10, 2, false), new("directory size", eocd + 12, 4, false),
            new("directory offset", eocd + 16, 4, false), new("comment length", eocd + 20, 2, false)]);
        return new SeedFile("mlnet-zip", bytes, boundaries, fields);
    }

    /// <summary>The scores of a loaded model on fixed rows.</summary>
    public static float[] Scores(MLContext ml, ITransformer model)
    {
        var scored = model.Transform(ml.Data.LoadFromEnumerable(Rows(6, 9)));
        var column = scored.Schema["Score"];
        var all = new List<float>();
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> buffer = default;
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            all.AddRange(buffer.DenseValues());
        }
        return [.. all];
    }
}
