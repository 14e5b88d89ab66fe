using System.Reflection;
using System.Runtime.InteropServices;

namespace Mlops.Stream.Kafka.Embedded.Internal;

/// <summary>
/// Maps <see cref="LibrdkafkaNative.Library"/> to the native librdkafka that Confluent.Kafka uses.
/// The mock cluster must live in that same library so there is one copy of librdkafka's global
/// state in the process. On Debian 12 the package's default <c>librdkafka.so</c> needs
/// <c>libsasl2.so.3</c>, which is missing, while <c>centos8-librdkafka.so</c> beside it loads, so
/// the default name cannot simply be handed to the loader.
/// </summary>
internal static class LibrdkafkaResolver
{
    private static readonly object Gate = new();
    private static bool _registered;
    private static IntPtr _handle;
    private static string? _loadedFrom;

    /// <summary>Where the library was loaded from, for diagnostics; null until the first resolution.</summary>
    internal static string? LoadedFrom => _loadedFrom;

    /// <summary>
    /// Registers the resolver for this assembly once. Loading Confluent.Kafka's library first makes
    /// the later load by file name return the very same module (the OS loader keeps one copy per file).
    /// </summary>
    internal static void EnsureRegistered()
    {
        lock (Gate)
        {
            if (_registered) return;
            TryLoadConfluentFirst();
            NativeLibrary.SetDllImportResolver(typeof(LibrdkafkaResolver).Assembly, Resolve);
            _registered = true;
        }
    }

    private static void TryLoadConfluentFirst()
    {
        try
        {
            Confluent.Kafka.Library.Load();
        }
        catch (DllNotFoundException)
        {
            // Our own probing below reports what it tried, which is a better message than Confluent's.
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != LibrdkafkaNative.Library) return IntPtr.Zero;
        lock (Gate)
        {
            if (_handle != IntPtr.Zero) return _handle;
            var tried = new List<string>();
            foreach (var candidate in Candidates())
            {
                tried.Add(candidate);
                if (NativeLibrary.TryLoad(candidate, out var handle))
                {
                    _handle = handle;
                    _loadedFrom = candidate;
                    return handle;
                }
            }

            // Names without a path go through the runtime's own probing (deps.json native assets),
            // which is how Confluent.Kafka finds the library in a published app.
            var confluent = typeof(Confluent.Kafka.Library).Assembly;
            foreach (var name in FileNames())
            {
                tried.Add(name);
                if (NativeLibrary.TryLoad(name, confluent, null, out var handle))
                {
                    _handle = handle;
                    _loadedFrom = name;
                    return handle;
                }
            }

            throw new DllNotFoundException(
                "Could not load librdkafka for the embedded Kafka mock cluster. Tried: " + string.Join(", ", tried));
        }
    }

    /// <summary>Full paths, most specific first: the package's runtimes folder, then the base directory.</summary>
    private static IEnumerable<string> Candidates()
    {
        var baseDir = AppContext.BaseDirectory;
        var directories = new List<string>();
        foreach (var rid in RuntimeIds())
        {
            directories.Add(Path.Combine(baseDir, "runtimes", rid, "native"));
        }
        directories.Add(baseDir);

        foreach (var directory in directories)
        {
            foreach (var name in FileNames())
            {
                var path = Path.Combine(directory, name);
                if (File.Exists(path)) yield return path;
            }
        }
    }

    /// <summary>
    /// The file names librdkafka.redist ships for this platform, in the order to try them. The
    /// default Linux build goes first: where its dependencies exist it is the one Confluent.Kafka picks.
    /// </summary>
    private static IEnumerable<string> FileNames()
    {
        if (OperatingSystem.IsWindows())
        {
            yield return "librdkafka.dll";
        }
        else if (OperatingSystem.IsMacOS())
        {
            yield return "librdkafka.dylib";
        }
        else
        {
            if (IsMusl()) yield return "alpine-librdkafka.so";
            yield return "librdkafka.so";
            yield return "centos8-librdkafka.so";
        }
    }

    private static IEnumerable<string> RuntimeIds()
    {
        var arch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.X86 => "x86",
            Architecture.Arm64 => "arm64",
            Architecture.Arm => "arm",
            Architecture.S390x => "s390x",
            var other => other.ToString().ToLowerInvariant(),
        };
        if (OperatingSystem.IsWindows()) yield return $"win-{arch}";
        else if (OperatingSystem.IsMacOS()) yield return $"osx-{arch}";
        else yield return $"linux-{arch}";
    }

    // Alpine uses musl; the glibc builds do not load there.
    private static bool IsMusl() =>
        RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.OrdinalIgnoreCase) ||
        File.Exists("/etc/alpine-release");
}
