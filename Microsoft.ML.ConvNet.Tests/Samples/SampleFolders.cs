namespace Microsoft.ML.ConvNet.Tests.Samples;

/// <summary>Paths of the repository the tests were built from.</summary>
internal static class SampleFolders
{
    /// <summary>The folder holding README.md and ConvNetML.sln, above the test binaries.</summary>
    public static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "README.md")) && File.Exists(Path.Combine(d.FullName, "ConvNetML.sln")))
            {
                return d.FullName;
            }
        }
        Assert.Fail("README.md and ConvNetML.sln were not found above " + AppContext.BaseDirectory);
        return "";
    }
}
