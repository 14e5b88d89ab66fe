using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mlops.Stream.Inference.Registry.Internal;

/// <summary>
/// aliases.json keeps the common case terse: a plain number for a version, an object only when
/// a weight is attached (<c>{"production": 3, "canary": {"version": 4, "weight": 0.1}}</c>).
/// </summary>
internal sealed class ModelAliasesJsonConverter : JsonConverter<ModelAliases>
{
    public override ModelAliases Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("aliases must be a JSON object of alias -> version");
        }

        var entries = ImmutableSortedDictionary.CreateBuilder<string, AliasTarget>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var alias = reader.GetString()!;
            reader.Read();
            entries[alias] = reader.TokenType switch
            {
                JsonTokenType.Number => new AliasTarget(reader.GetInt32()),
                JsonTokenType.StartObject => ReadTarget(ref reader, alias),
                _ => throw new JsonException($"alias '{alias}' must be a version number or {{\"version\", \"weight\"}}"),
            };
        }

        return new ModelAliases(entries.ToImmutable());
    }

    public override void Write(Utf8JsonWriter writer, ModelAliases value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (alias, target) in value.Entries)
        {
            if (target.Weight is { } weight)
            {
                writer.WriteStartObject(alias);
                writer.WriteNumber("version"u8, target.Version);
                writer.WriteNumber("weight"u8, weight);
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteNumber(alias, target.Version);
            }
        }

        writer.WriteEndObject();
    }

    private static AliasTarget ReadTarget(ref Utf8JsonReader reader, string alias)
    {
        int? version = null;
        double? weight = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals("version"u8))
            {
                reader.Read();
                version = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("weight"u8))
            {
                reader.Read();
                weight = reader.GetDouble();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new AliasTarget(version ?? throw new JsonException($"alias '{alias}' has no \"version\""), weight);
    }
}
