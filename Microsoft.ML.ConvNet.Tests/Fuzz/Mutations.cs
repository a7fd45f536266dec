using System.Buffers.Binary;

namespace Microsoft.ML.ConvNet.Tests.Fuzz;

/// <summary>A header field of a seed file that the mutator sets to extreme values.</summary>
/// <param name="Name">What the field is (for the case name).</param>
/// <param name="Offset">Its first byte.</param>
/// <param name="Width">1, 2, 4 or 8 bytes.</param>
/// <param name="BigEndian">Its byte order.</param>
internal sealed record HeaderField(string Name, int Offset, int Width, bool BigEndian);

/// <summary>A file to mutate: its bytes, the offsets where its chunks or sections begin, and its header fields.</summary>
/// <param name="Fixup">Applied to header-extreme cases (a PNG's chunk CRCs recomputed, so the value reaches the decoder).</param>
internal sealed record SeedFile(string Name, byte[] Bytes, IReadOnlyList<int> Boundaries, IReadOnlyList<HeaderField> Fields, Func<byte[], byte[]>? Fixup = null);

/// <summary>One mutated file: what was done, and the bytes.</summary>
/// <param name="Kind">truncate, flip, extreme, random-range, random-file, insert, append, empty.</param>
internal sealed record FuzzCase(string Seed, string Kind, string Detail, byte[] Bytes)
{
    /// <summary>Whether the mutation only removed bytes from the end.</summary>
    public bool IsTruncation => Kind is "truncate" or "empty";

    public override string ToString() => $"{Seed} {Kind} {Detail}";
}

/// <summary>
/// Seeded mutations of seed files: truncation at every chunk or section boundary (and one byte either side), bit flips,
/// extreme values of header fields, random byte ranges, random files, inserted and appended bytes.
/// </summary>
internal static class Mutations
{
    private static readonly ulong[] Extremes = [0, 1, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x10000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x7FFF_FFFF_FFFF_FFFF, ulong.MaxValue];

    /// <summary>
    /// <paramref name="count"/> cases from <paramref name="seeds"/>: first every truncation and every header extreme of
    /// each seed (as many as fit), then random mutations drawn with <paramref name="seed"/>.
    /// </summary>
    public static List<FuzzCase> Generate(IReadOnlyList<SeedFile> seeds, int count, int seed)
    {
        var random = new Random(seed);
        var deterministic = new List<FuzzCase>();
        foreach (var file in seeds)
        {
            deterministic.Add(new FuzzCase(file.Name, "empty", "0 bytes", []));
            foreach (int b in file.Boundaries.SelectMany(b => new[] { b - 1, b, b + 1 }).Where(b => b > 0 && b < file.Bytes.Length).Distinct().Order())
            {
                deterministic.Add(new FuzzCase(file.Name, "truncate", $"at {b} of {file.Bytes.Length}", file.Bytes[..b]));
            }
            foreach (var field in file.Fields)
            {
                foreach (ulong value in Extremes.Where(v => field.Width == 8 || v <= (1UL << (8 * field.Width)) - 1))
                {
                    var bytes = SetField(file.Bytes, field, value);
                    deterministic.Add(new FuzzCase(file.Name, "extreme", $"{field.Name}={value:X}", file.Fixup?.Invoke(bytes) ?? bytes));
                }
            }
        }
        // Interleave the seeds' deterministic cases so that a smaller count still covers every seed.
        var bySeed = deterministic.GroupBy(c => c.Seed).Select(g => new Queue<FuzzCase>(g)).ToList();
        var cases = new List<FuzzCase>();
        int budget = Math.Max(count * 3 / 4, count - 50);
        while (cases.Count < budget && bySeed.Any(q => q.Count > 0))
        {
            foreach (var q in bySeed.Where(q => q.Count > 0))
            {
                if (cases.Count < budget)
                {
                    cases.Add(q.Dequeue());
                }
            }
        }
        while (cases.Count < count)
        {
            var file = seeds[random.Next(seeds.Count)];
            cases.Add(Random(file, random));
        }
        return cases;
    }

    private static FuzzCase Random(SeedFile file, Random random)
    {
        var bytes = (byte[])file.Bytes.Clone();
        switch (random.Next(6))
        {
            case 0:
            {
                int flips = new[] { 1, 2, 8, 64 }[random.Next(4)];
                var where = new List<string>();
                for (int i = 0; i < flips; i++)
                {
                    int at = random.Next(bytes.Length), bit = random.Next(8);
                    bytes[at] ^= (byte)(1 << bit);
                    where.Add($"{at}.{bit}");
                }
                return new FuzzCase(file.Name, "flip", $"{flips} bits ({string.Join(" ", where.Take(4))}{(flips > 4 ? " ..." : "")})", bytes);
            }
            case 1:
            {
                int at = random.Next(bytes.Length);
                int length = Math.Min(bytes.Length - at, 1 + random.Next(64));
                random.NextBytes(bytes.AsSpan(at, length));
                return new FuzzCase(file.Name, "random-range", $"{length} bytes at {at}", bytes);
            }
            case 2:
            {
                var junk = new byte[random.Next(2 * file.Bytes.Length + 1)];
                random.NextBytes(junk);
                // Half keep the seed's first bytes (its magic number), so the reader gets past the first check.
                int keep = random.Next(2) == 0 ? Math.Min(junk.Length, Math.Min(16, file.Bytes.Length)) : 0;
                file.Bytes.AsSpan(0, keep).CopyTo(junk);
                return new FuzzCase(file.Name, "random-file", $"{junk.Length} bytes, {keep} kept", junk);
            }
            case 3:
            {
                int at = file.Boundaries.Count > 0 && random.Next(2) == 0 ? Math.Clamp(file.Boundaries[random.Next(file.Boundaries.Count)], 0, bytes.Length) : random.Next(bytes.Length + 1);
                var insert = new byte[1 + random.Next(32)];
                random.NextBytes(insert);
                return new FuzzCase(file.Name, "insert", $"{insert.Length} bytes at {at}", [.. bytes[..at], .. insert, .. bytes[at..]]);
            }
            case 4:
            {
                var tail = new byte[1 + random.Next(64)];
                random.NextBytes(tail);
                return new FuzzCase(file.Name, "append", $"{tail.Length} bytes", [.. bytes, .. tail]);
            }
            default:
            {
                int at = random.Next(bytes.Length);
                int length = Math.Min(bytes.Length - at, 1 + random.Next(256));
                return new FuzzCase(file.Name, "delete", $"{length} bytes at {at}", [.. bytes[..at], .. bytes[(at + length)..]]);
            }
        }
    }

    private static byte[] SetField(byte[] original, HeaderField field, ulong value)
    {
        var bytes = (byte[])original.Clone();
        var span = bytes.AsSpan(field.Offset, field.Width);
        switch (field.Width)
        {
            case 1:
                span[0] = (byte)value;
                break;
            case 2 when field.BigEndian:
                BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)value);
                break;
            case 2:
                BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)value);
                break;
            case 4 when field.BigEndian:
                BinaryPrimitives.WriteUInt32BigEndian(span, (uint)value);
                break;
            case 4:
                BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)value);
                break;
            case 8 when field.BigEndian:
                BinaryPrimitives.WriteUInt64BigEndian(span, value);
                break;
            default:
                BinaryPrimitives.WriteUInt64LittleEndian(span, value);
                break;
        }
        return bytes;
    }
}
