using Microsoft.Extensions.Logging;

namespace Mlops.Stream.Inference.Registry.Internal;

/// <summary>
/// File events for one kind of the folder registry's small state files (<c>aliases.json</c>, <c>scale.json</c>): any such file under the root that
/// is created, changed, renamed into place (atomic writes arrive as a rename) or deleted (a cleared
/// scale). File events are
/// fast but not guaranteed, so callers still check now and then.
/// </summary>
internal static class AliasesWatcher
{
    public static IDisposable Start(string root, string fileName, Action changed, ILogger logger)
    {
        try
        {
            Directory.CreateDirectory(root);
            var watcher = new FileSystemWatcher(root, fileName) { IncludeSubdirectories = true };
            watcher.Changed += (_, _) => changed();
            watcher.Created += (_, _) => changed();
            watcher.Renamed += (_, _) => changed();
            watcher.Deleted += (_, _) => changed();
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            logger.LogWarning(e, "Cannot watch {Root} for alias changes; relying on periodic checks", root);
            return new NoWatch();
        }
    }

    private sealed class NoWatch : IDisposable
    {
        public void Dispose() { }
    }
}
