using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Mlops.Stream.Http.Internal;

/// <summary>Reads a whole request body into memory, refusing bodies over a size limit before buffering them.</summary>
internal static class RequestBodyReader
{
    private const int ChunkSize = 16 * 1024;

    /// <summary>The body, or null when it is longer than <paramref name="limit"/> bytes.</summary>
    /// <exception cref="BadHttpRequestException">The request is malformed (e.g. shorter than its Content-Length).</exception>
    public static async Task<ReadOnlyMemory<byte>?> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        // This reader enforces the limit exactly; the server's own cap (Kestrel: 30 MB by default)
        // stays as an outer bound. It is raised so a larger limit works, never lowered: Kestrel's
        // accounting of chunked bodies runs ahead of the data bytes and would refuse a chunked
        // body of exactly the limit.
        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false, MaxRequestBodySize: { } serverLimit } && serverLimit < limit)
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        try
        {
            if (request.ContentLength is { } length)
            {
                if (length > limit)
                {
                    return null;
                }

                var exact = new byte[length];
                await request.Body.ReadExactlyAsync(exact, cancellationToken);
                return exact;
            }

            // No Content-Length (chunked): grow a buffer, stopping as soon as it passes the limit.
            var buffer = new ArrayBufferWriter<byte>(ChunkSize);
            while (true)
            {
                var read = await request.Body.ReadAsync(buffer.GetMemory(ChunkSize), cancellationToken);
                if (read == 0)
                {
                    return buffer.WrittenMemory;
                }
                buffer.Advance(read);
                if (buffer.WrittenCount > limit)
                {
                    return null;
                }
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
        catch (EndOfStreamException e)
        {
            throw new BadHttpRequestException("the request body ended before its Content-Length", e);
        }
    }
}
