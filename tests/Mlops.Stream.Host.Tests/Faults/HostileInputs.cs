using System.Globalization;
using System.Text;
using Mlops.Stream.Host.Tests.Infrastructure;

namespace Mlops.Stream.Host.Tests.Faults;

/// <summary>
/// One hostile body: what was done to it, its bytes, whether it can never be a valid request for
/// the demo model (<see cref="Bad"/>; a byte-level mutation may still happen to be valid), and for
/// the binary tensor extension the <c>Inference-Header-Content-Length</c> value to send with it.
/// </summary>
public sealed record HostileBody(string Kind, byte[] Body, bool Bad, string? BinaryHeaderLength = null)
{
    public string Describe() => $"{Kind} ({Body.Length} bytes{(BinaryHeaderLength is null ? "" : $", header length '{BinaryHeaderLength}'")}): " +
                                Encoding.UTF8.GetString(Body, 0, Math.Min(Body.Length, 160)).ReplaceLineEndings(" ");
}

/// <summary>
/// Mutates valid Open Inference Protocol v2 requests for the demo model (one FP32 input
/// <c>features</c> of shape [1, 30]) into hostile ones, deterministically from a seed: structural
/// breakage (huge, negative or overflowing shapes, shape and data of different lengths, nesting far
/// past any parser's depth, wrong datatypes and value types), byte-level damage (flips, cuts,
/// insertions, invalid UTF-8) and, for HTTP, malformed binary tensor payloads.
/// </summary>
public sealed class HostileInputs(int seed)
{
    private const int Features = 30;
    private readonly Random _random = new(seed);

    /// <summary>A body for a Kafka record or a JSON post: structural (always bad) or byte-level (maybe valid).</summary>
    public HostileBody NextJson(string id) => _random.Next(3) == 0 ? ByteMutation(id) : Structural(id);

    /// <summary>A body for a binary-extension post: bad, but for raw elements of any bit pattern (NaN, infinities, subnormals).</summary>
    public HostileBody NextBinary(string id)
    {
        var floats = FloatBytes(Features);
        switch (_random.Next(10))
        {
            case 9:
                _random.NextBytes(floats);
                return Binary("raw elements of any bit pattern", id, floats, Features * 4) with { Bad = false };
            case 0:
                return Binary("header length not a number", id, floats, Features * 4, lengthText: _random.GetItems(["abc", "-1", "1e3", " 12", "0x10", "99999999999"], 1)[0]);
            case 1:
                return Binary("header length past the body", id, floats, Features * 4, lengthDelta: 1 + _random.Next(1000) + floats.Length);
            case 2:
                return Binary("header length cuts the JSON header", id, floats, Features * 4, lengthDelta: -(1 + _random.Next(20)));
            case 3:
                var wrongSize = Features * 4 + (_random.Next(2) == 0 ? -4 : 4) * (1 + _random.Next(10));
                return Binary("binary_data_size different from the bytes sent", id, floats, wrongSize);
            case 4:
                return Binary("binary_data_size negative or huge", id, floats, _random.GetItems(new long[] { -1, -120, int.MaxValue, 1L << 40 }, 1)[0]);
            case 5:
                return Binary("binary_data_size not whole FP32 elements", id, floats[..^2], Features * 4 - 2);
            case 6:
                return Binary("binary input with data as well", id, floats, Features * 4, extraInputJson: $",\"data\":[{Floats(Features)}]");
            case 7:
                return Binary("binary input with a huge shape", id, floats, Features * 4, shape: $"[1,{1L << 40}]");
            default:
                var garbage = new byte[_random.Next(1, 512)];
                _random.NextBytes(garbage);
                return new HostileBody("random bytes", garbage, Bad: true, _random.Next(garbage.Length + 1).ToString(CultureInfo.InvariantCulture));
        }
    }

    private HostileBody Structural(string id)
    {
        var data = Floats(Features);
        string Request(string input) => $"{{\"id\":\"{id}\",\"inputs\":[{input}]}}";
        string Input(string shape = "[1,30]", string datatype = "\"FP32\"", string? data_ = null, string name = "\"features\"") =>
            $"{{\"name\":{name},\"datatype\":{datatype},\"shape\":{shape},\"data\":[{data_ ?? data}]}}";

        if (_random.Next(15) == 0)
        {
            // Numbers JSON allows but FP32 cannot hold: the model may be given infinities, but must answer.
            var huge = string.Join(',', Enumerable.Range(0, Features).Select(_ => _random.GetItems(["1e39", "-1e400", "1e-50", "3.5", "-0"], 1)[0]));
            return new HostileBody("values past FP32's range", Encoding.UTF8.GetBytes(Request(Input(data_: huge))), Bad: false);
        }
        var (kind, json) = _random.Next(14) switch
        {
            0 => ("shape [1, 2^40]", Request(Input(shape: $"[1,{1L << 40}]"))),
            1 => ("negative dimension", Request(Input(shape: _random.Next(2) == 0 ? "[1,-30]" : "[-1,30]"))),
            2 => ("shape whose element count overflows", Request(Input(shape: $"[{int.MaxValue},{int.MaxValue},{int.MaxValue}]"))),
            3 => ("shape and data of different lengths", Request(Input(data_: Floats(_random.Next(2) == 0 ? _random.Next(Features) : Features + 1 + _random.Next(Features))))),
            4 => ("data nested past any depth", Request(Input(data_: Nested(_random.Next(65, 5000))))),
            5 => ("wrong datatype", Request(Input(datatype: _random.GetItems(["\"BYTES\"", "\"BOOL\"", "\"INT8\"", "\"fp32\"", "\"FLOAT\"", "\"\"", "null", "7"], 1)[0]))),
            6 => ("values of the wrong type", Request(Input(data_: string.Join(',', Enumerable.Repeat(_random.GetItems(["\"1.0\"", "null", "{}", "true", "[]"], 1)[0], Features))))),
            7 => ("shape of the wrong type", Request(Input(shape: _random.GetItems(["[1.5,30]", "[\"1\",\"30\"]", "\"1x30\"", "null", "{}", $"[1,{ulong.MaxValue}]"], 1)[0]))),
            8 => ("inputs not a list of tensors", $"{{\"id\":\"{id}\",\"inputs\":{_random.GetItems(["{}", "null", "[]", "\"features\"", "[null]", "[[]]"], 1)[0]}}}"),
            9 => ("unknown input name", Request(Input(name: _random.GetItems(["\"nope\"", "\"\"", "null", "\"features\\u0000\""], 1)[0]))),
            10 => ("the input twice", Request(Input() + "," + Input())),
            11 => ("root not an object", _random.GetItems(["[]", "\"request\"", "42", "null", "true"], 1)[0]),
            12 => ("unknown output asked for", $"{{\"id\":\"{id}\",\"inputs\":[{Input()}],\"outputs\":[{{\"name\":\"{new string('o', _random.Next(1, 300))}\"}}]}}"),
            _ => ("id not a string", $"{{\"id\":{_random.GetItems(["42", "{}", "[\"a\"]", "true"], 1)[0]},\"inputs\":[{Input()}]}}"),
        };
        return new HostileBody(kind, Encoding.UTF8.GetBytes(json), Bad: true);
    }

    private HostileBody ByteMutation(string id)
    {
        var body = DemoRequests.Body(id).ToList();
        var at = _random.Next(body.Count);
        string kind;
        switch (_random.Next(6))
        {
            case 0:
                kind = "a byte changed";
                body[at] = (byte)_random.Next(256);
                break;
            case 1:
                kind = "cut short";
                body.RemoveRange(at, body.Count - at);
                break;
            case 2:
                kind = "random bytes inserted";
                var inserted = new byte[_random.Next(1, 16)];
                _random.NextBytes(inserted);
                body.InsertRange(at, inserted);
                break;
            case 3:
                kind = "a slice removed";
                body.RemoveRange(at, _random.Next(1, body.Count - at + 1));
                break;
            case 4:
                kind = "a slice repeated";
                var length = _random.Next(1, Math.Min(64, body.Count - at) + 1);
                body.InsertRange(at, body.GetRange(at, length));
                break;
            default:
                kind = "invalid UTF-8 inserted";
                body.InsertRange(at, _random.GetItems(new byte[][] { [0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0x00] }, 1)[0]);
                break;
        }
        return new HostileBody(kind, [.. body], Bad: false);
    }

    private HostileBody Binary(string kind, string id, byte[] raw, long declaredSize, string? lengthText = null, int lengthDelta = 0,
        string shape = "[1,30]", string extraInputJson = "")
    {
        var header = Encoding.UTF8.GetBytes(
            $"{{\"id\":\"{id}\",\"inputs\":[{{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":{shape}," +
            $"\"parameters\":{{\"binary_data_size\":{declaredSize}}}{extraInputJson}}}]}}");
        var length = lengthText ?? (header.Length + lengthDelta).ToString(CultureInfo.InvariantCulture);
        return new HostileBody("binary: " + kind, [.. header, .. raw], Bad: true, length);
    }

    private byte[] FloatBytes(int count)
    {
        var bytes = new byte[count * 4];
        for (var i = 0; i < count; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * 4), (float)_random.NextDouble());
        return bytes;
    }

    private string Floats(int count) =>
        string.Join(',', Enumerable.Range(0, count).Select(_ => ((float)(_random.NextDouble() * 2 - 1)).ToString("R", CultureInfo.InvariantCulture)));

    private static string Nested(int depth) => new string('[', depth) + "0.5" + new string(']', depth);
}
