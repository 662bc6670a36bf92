/** The media type of a Content-Type header, lower case (media types are case-insensitive), without parameters. */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}
