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
        // Let the server enforce the same limit (Kestrel's own default is 30 MB), so a chunked body
        // is cut off by the server too and a limit above the server default still works.
        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
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
