namespace Mlops.Stream.Kafka.Topics;

/// <summary>
/// The topic families declared as data in the <c>topics/</c> folder, one JSON file per family. The
/// Kafka project copies the folder next to every program that references it, so
/// <see cref="Default"/> finds it at <c>AppContext.BaseDirectory/topics</c>.
/// </summary>
public sealed class TopicCatalog
{
    /// <summary>The folder name, under the application's base directory and at the repository root.</summary>
    public const string DirectoryName = "topics";

    private static readonly Lazy<TopicCatalog> DefaultCatalog = new(LoadDefault);

    private readonly Dictionary<string, TopicFamily> _byName;
    private readonly List<TopicFamily> _bySpecificity;

    private TopicCatalog(IReadOnlyList<TopicFamily> families, string source)
    {
        Families = families;
        Source = source;
        _byName = families.ToDictionary(f => f.Name, StringComparer.Ordinal);
        _bySpecificity = families.OrderByDescending(f => f.NameTemplate.Replace(TopicFamily.ModelPlaceholder, "", StringComparison.Ordinal).Length).ToList();
    }

    /// <summary>
    /// The catalog shipped with the application, loaded once. It must declare every family in
    /// <see cref="TopicFamilies"/>, because the service writes to all of them.
    /// </summary>
    /// <exception cref="InvalidDataException">The folder is missing, a file is invalid or a well-known family is absent.</exception>
    public static TopicCatalog Default => DefaultCatalog.Value;

    /// <summary>All families, ordered by name.</summary>
    public IReadOnlyList<TopicFamily> Families { get; }

    /// <summary>Where the families were read from, for messages.</summary>
    public string Source { get; }

    /// <summary>The family called <paramref name="family"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such family; the message lists the known ones.</exception>
    public TopicFamily this[string family] => TryGet(family, out var found)
        ? found
        : throw new KeyNotFoundException(
            $"No topic family '{family}' in {Source}; known families: {string.Join(", ", _byName.Keys.Order())}.");

    public bool TryGet(string family, out TopicFamily found) => _byName.TryGetValue(family, out found!);

    /// <summary>The topics of every per-model family for <paramref name="model"/>: what a model needs before it serves.</summary>
    public IReadOnlyList<TopicDeclaration> DeclareForModel(string model) =>
        Families.Where(f => f.IsPerModel).Select(f => f.Declare(model)).ToList();

    /// <summary>The topics of every family shared by all models (the audit trail).</summary>
    public IReadOnlyList<TopicDeclaration> DeclareShared() =>
        Families.Where(f => !f.IsPerModel).Select(f => f.Declare()).ToList();

    /// <summary>The shared topics and those of each of <paramref name="models"/>: what a broker needs before nodes serve them.</summary>
    public IReadOnlyList<TopicDeclaration> DeclareAll(IEnumerable<string> models) => [.. DeclareShared(), .. models.SelectMany(DeclareForModel)];

    /// <summary>
    /// Which family (and, for a per-model family, which model) <paramref name="topic"/> belongs to;
    /// null for a topic of no family. Templates can overlap (<c>mlops.requests.{model}.v1</c> also
    /// matches <c>mlops.requests.m.dlq.v1</c>, with model <c>m.dlq</c>), so the family whose template
    /// has the most fixed text wins: the more specific name.
    /// </summary>
    public TopicIdentity? Identify(string topic)
    {
        foreach (var family in _bySpecificity)
        {
            if (family.Matches(topic, out var model)) return new TopicIdentity(family, model);
        }
        return null;
    }

    /// <summary>
    /// Loads every <c>*.json</c> file in <paramref name="directory"/> as a family. All problems are
    /// reported together, each naming its file and key.
    /// </summary>
    /// <exception cref="InvalidDataException">The folder is missing or empty, or any file is invalid.</exception>
    public static TopicCatalog Load(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new InvalidDataException(
                $"Topic catalog folder '{directory}' does not exist. It is copied to the output of every project " +
                "that references Mlops.Stream.Kafka; rebuild, or check that the program runs from its build output.");
        }

        var files = Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0)
        {
            throw new InvalidDataException($"Topic catalog folder '{directory}' holds no *.json family files.");
        }

        var problems = new List<string>();
        var families = new List<TopicFamily>();
        foreach (var file in files)
        {
            if (TopicFamilyFileReader.Read(file, problems) is { } family) families.Add(family);
        }

        ReportCollisions(families, f => f.Name, "family name", problems);
        ReportCollisions(families, f => f.NameTemplate, "name template", problems);
        ThrowIfAny(directory, problems);
        return new TopicCatalog(families.OrderBy(f => f.Name, StringComparer.Ordinal).ToList(), directory);
    }

    /// <summary>Fails unless every family in <paramref name="families"/> is declared.</summary>
    /// <exception cref="InvalidDataException">Some are missing; the message names them.</exception>
    public TopicCatalog Require(IEnumerable<string> families)
    {
        var missing = families.Where(f => !_byName.ContainsKey(f)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException(
                $"Topic catalog {Source} lacks the famil{(missing.Count == 1 ? "y" : "ies")} {string.Join(", ", missing)}, " +
                "which the service writes to. Restore the file(s) in topics/.");
        }
        return this;
    }

    private static TopicCatalog LoadDefault() =>
        Load(Path.Combine(AppContext.BaseDirectory, DirectoryName)).Require(TopicFamilies.All);

    private static void ReportCollisions(List<TopicFamily> families, Func<TopicFamily, string> key, string what, List<string> problems)
    {
        foreach (var group in families.GroupBy(key, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"{group.Count()} families share the {what} '{group.Key}': {string.Join(", ", group.Select(f => f.Name))}");
        }
    }

    private static void ThrowIfAny(string directory, List<string> problems)
    {
        if (problems.Count == 0) return;
        throw new InvalidDataException(
            $"Topic catalog '{directory}' is invalid:{Environment.NewLine}  - " +
            string.Join(Environment.NewLine + "  - ", problems));
    }
}
