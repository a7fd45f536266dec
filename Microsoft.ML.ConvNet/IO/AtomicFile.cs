using System.Text.RegularExpressions;

namespace Microsoft.ML.ConvNet.IO;

/// <summary>
/// Writes files so that a reader never sees a partial file: temporary file in the same folder
/// (<c>NAME.xxxxxxxx.tmp</c>), flush, rename. The temporary file is removed on failure; those left by a process that
/// was killed while saving to the same path are removed at the next save (a temporary file another process is still
/// writing is locked and left alone).
/// </summary>
public static partial class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> with <paramref name="write"/>; on any failure the old file (if any) is untouched.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }
        RemoveStaleTemporaryFiles(full);
        string tmp = TemporaryPath(full);
        try
        {
            // Locked while written (FileShare.None), so that a concurrent save to the same path does not take it for stale.
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(tmp);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
            throw;
        }
    }

    /// <summary>
    /// Checks, before long work whose result goes to <paramref name="path"/>, that it can be written: its folder exists
    /// or can be created, it is not a folder, and a file can be created beside it (one is created and removed).
    /// </summary>
    /// <exception cref="IOException">The path cannot be written; the message names it and says why.</exception>
    public static void CheckWritable(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            throw new IOException($"'{full}' is a folder; a file cannot be written there.");
        }
        string tmp = TemporaryPath(full);
        try
        {
            string? dir = Path.GetDirectoryName(full);
            if (!string.IsNullOrEmpty(dir))
            {
                Directory.CreateDirectory(dir);
            }
            using (new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
            if (File.Exists(full) && (File.GetAttributes(full) & FileAttributes.ReadOnly) != 0)
            {
                throw new UnauthorizedAccessException($"the file is read-only");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            string reason = e switch
            {
                UnauthorizedAccessException => "permission denied",
                FileNotFoundException or DirectoryNotFoundException => "no file can be created in its folder",
                _ => e.Message.Replace(tmp, full, StringComparison.Ordinal),
            };
            throw new IOException($"'{full}' cannot be written: {reason}.", e);
        }
    }

    /// <summary>
    /// Removes <c>NAME.xxxxxxxx.tmp</c> files beside <paramref name="full"/> that no process holds open (left by a save that
    /// was killed); returns how many were removed.
    /// </summary>
    internal static int RemoveStaleTemporaryFiles(string full)
    {
        string? dir = Path.GetDirectoryName(full);
        string name = Path.GetFileName(full);
        if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir))
        {
            return 0;
        }
        int removed = 0;
        IEnumerable<string> candidates;
        try
        {
            candidates = Directory.EnumerateFiles(dir, name + ".*.tmp").ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
        foreach (string candidate in candidates)
        {
            string suffix = Path.GetFileName(candidate)[name.Length..];
            if (!TemporarySuffix().IsMatch(suffix))
            {
                continue;
            }
            try
            {
                // Opening with FileShare.None fails while a writer holds it; DeleteOnClose removes it once opened.
                using (new FileStream(candidate, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose))
                {
                }
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // In use by another save, or not ours to remove: leave it.
            }
        }
        return removed;
    }

    private static string TemporaryPath(string full) => full + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";

    [GeneratedRegex("^\\.[0-9a-f]{8}\\.tmp$")]
    private static partial Regex TemporarySuffix();
}
