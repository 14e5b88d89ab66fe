namespace Mlops.Stream.Testing;

/// <summary>A fresh folder (a test's registry, scratch files), deleted with everything in it when disposed.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "mlops-tests-")
    {
        Path = Directory.CreateTempSubdirectory(prefix).FullName;
    }

    public string Path { get; }

    /// <summary>A path inside the folder (not created).</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    public override string ToString() => Path;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A process a test started may still hold a file for a moment; the OS cleans the temp folder.
        }
    }
}
