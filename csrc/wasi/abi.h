/* wasi/abi.h: the wasi_snapshot_preview1 ABI - errno values, flag bits, enumerations and the
 * byte layout of every structure the guest and the host exchange.  Nothing else lives here.
 *
 * Source: the WASI preview 1 definition (WebAssembly/WASI, legacy/preview1/witx/
 * typenames.witx and wasi_snapshot_preview1.witx).  All structures are little-endian, packed
 * at their natural alignment; the offsets below are the witx-computed ones. */
#ifndef EXN_WASI_ABI_H
#define EXN_WASI_ABI_H

/* ---- errno (u16) ---------------------------------------------------------------------------- */
enum {
    WASI_ESUCCESS = 0,
    WASI_E2BIG = 1,
    WASI_EACCES = 2,
    WASI_EADDRINUSE = 3,
    WASI_EADDRNOTAVAIL = 4,
    WASI_EAFNOSUPPORT = 5,
    WASI_EAGAIN = 6,
    WASI_EALREADY = 7,
    WASI_EBADF = 8,
    WASI_EBADMSG = 9,
    WASI_EBUSY = 10,
    WASI_ECANCELED = 11,
    WASI_ECHILD = 12,
    WASI_ECONNABORTED = 13,
    WASI_ECONNREFUSED = 14,
    WASI_ECONNRESET = 15,
    WASI_EDEADLK = 16,
    WASI_EDESTADDRREQ = 17,
    WASI_EDOM = 18,
    WASI_EDQUOT = 19,
    WASI_EEXIST = 20,
    WASI_EFAULT = 21,
    WASI_EFBIG = 22,
    WASI_EHOSTUNREACH = 23,
    WASI_EIDRM = 24,
    WASI_EILSEQ = 25,
    WASI_EINPROGRESS = 26,
    WASI_EINTR = 27,
    WASI_EINVAL = 28,
    WASI_EIO = 29,
    WASI_EISCONN = 30,
    WASI_EISDIR = 31,
    WASI_ELOOP = 32,
    WASI_EMFILE = 33,
    WASI_EMLINK = 34,
    WASI_EMSGSIZE = 35,
    WASI_EMULTIHOP = 36,
    WASI_ENAMETOOLONG = 37,
    WASI_ENETDOWN = 38,
    WASI_ENETRESET = 39,
    WASI_ENETUNREACH = 40,
    WASI_ENFILE = 41,
    WASI_ENOBUFS = 42,
    WASI_ENODEV = 43,
    WASI_ENOENT = 44,
    WASI_ENOEXEC = 45,
    WASI_ENOLCK = 46,
    WASI_ENOLINK = 47,
    WASI_ENOMEM = 48,
    WASI_ENOMSG = 49,
    WASI_ENOPROTOOPT = 50,
    WASI_ENOSPC = 51,
    WASI_ENOSYS = 52,
    WASI_ENOTCONN = 53,
    WASI_ENOTDIR = 54,
    WASI_ENOTEMPTY = 55,
    WASI_ENOTRECOVERABLE = 56,
    WASI_ENOTSOCK = 57,
    WASI_ENOTSUP = 58,
    WASI_ENOTTY = 59,
    WASI_ENXIO = 60,
    WASI_EOVERFLOW = 61,
    WASI_EOWNERDEAD = 62,
    WASI_EPERM = 63,
    WASI_EPIPE = 64,
    WASI_EPROTO = 65,
    WASI_EPROTONOSUPPORT = 66,
    WASI_EPROTOTYPE = 67,
    WASI_ERANGE = 68,
    WASI_EROFS = 69,
    WASI_ESPIPE = 70,
    WASI_ESRCH = 71,
    WASI_ESTALE = 72,
    WASI_ETIMEDOUT = 73,
    WASI_ETXTBSY = 74,
    WASI_EXDEV = 75,
    WASI_ENOTCAPABLE = 76
};

/* ---- filetype (u8) -------------------------------------------------------------------------- */
enum {
    WASI_FILETYPE_UNKNOWN = 0,
    WASI_FILETYPE_BLOCK_DEVICE = 1,
    WASI_FILETYPE_CHARACTER_DEVICE = 2,
    WASI_FILETYPE_DIRECTORY = 3,
    WASI_FILETYPE_REGULAR_FILE = 4,
    WASI_FILETYPE_SOCKET_DGRAM = 5,
    WASI_FILETYPE_SOCKET_STREAM = 6,
    WASI_FILETYPE_SYMBOLIC_LINK = 7
};

/* ---- fdflags (u16) -------------------------------------------------------------------------- */
#define WASI_FDFLAG_APPEND 0x1u
#define WASI_FDFLAG_DSYNC 0x2u
#define WASI_FDFLAG_NONBLOCK 0x4u
#define WASI_FDFLAG_RSYNC 0x8u
#define WASI_FDFLAG_SYNC 0x10u
#define WASI_FDFLAGS_ALL 0x1fu

/* ---- oflags (u16) --------------------------------------------------------------------------- */
#define WASI_O_CREAT 0x1u
#define WASI_O_DIRECTORY 0x2u
#define WASI_O_EXCL 0x4u
#define WASI_O_TRUNC 0x8u
#define WASI_O_ALL 0xfu

/* ---- lookupflags (u32) ---------------------------------------------------------------------- */
#define WASI_LOOKUP_SYMLINK_FOLLOW 0x1u

/* ---- fstflags (u16) ------------------------------------------------------------------------- */
#define WASI_FST_ATIM 0x1u
#define WASI_FST_ATIM_NOW 0x2u
#define WASI_FST_MTIM 0x4u
#define WASI_FST_MTIM_NOW 0x8u
#define WASI_FST_ALL 0xfu

/* ---- whence (u8) ---------------------------------------------------------------------------- */
enum { WASI_WHENCE_SET = 0, WASI_WHENCE_CUR = 1, WASI_WHENCE_END = 2 };

/* ---- clockid (u32) -------------------------------------------------------------------------- */
enum {
    WASI_CLOCK_REALTIME = 0,
    WASI_CLOCK_MONOTONIC = 1,
    WASI_CLOCK_PROCESS_CPUTIME = 2,
    WASI_CLOCK_THREAD_CPUTIME = 3
};

/* ---- advice (u8) ---------------------------------------------------------------------------- */
enum {
    WASI_ADVICE_NORMAL = 0,
    WASI_ADVICE_SEQUENTIAL = 1,
    WASI_ADVICE_RANDOM = 2,
    WASI_ADVICE_WILLNEED = 3,
    WASI_ADVICE_DONTNEED = 4,
    WASI_ADVICE_NOREUSE = 5
};

/* ---- poll: eventtype (u8), subclockflags (u16), eventrwflags (u16) -------------------------- */
enum { WASI_EVENTTYPE_CLOCK = 0, WASI_EVENTTYPE_FD_READ = 1, WASI_EVENTTYPE_FD_WRITE = 2 };
#define WASI_SUBCLOCK_ABSTIME 0x1u
#define WASI_EVENT_FD_READWRITE_HANGUP 0x1u

/* ---- preopentype (u8) ----------------------------------------------------------------------- */
enum { WASI_PREOPENTYPE_DIR = 0 };

/* ---- rights (u64) --------------------------------------------------------------------------- */
#define WASI_RIGHT_FD_DATASYNC (1ull << 0)
#define WASI_RIGHT_FD_READ (1ull << 1)
#define WASI_RIGHT_FD_SEEK (1ull << 2)
#define WASI_RIGHT_FD_FDSTAT_SET_FLAGS (1ull << 3)
#define WASI_RIGHT_FD_SYNC (1ull << 4)
#define WASI_RIGHT_FD_TELL (1ull << 5)
#define WASI_RIGHT_FD_WRITE (1ull << 6)
#define WASI_RIGHT_FD_ADVISE (1ull << 7)
#define WASI_RIGHT_FD_ALLOCATE (1ull << 8)
#define WASI_RIGHT_PATH_CREATE_DIRECTORY (1ull << 9)
#define WASI_RIGHT_PATH_CREATE_FILE (1ull << 10)
#define WASI_RIGHT_PATH_LINK_SOURCE (1ull << 11)
#define WASI_RIGHT_PATH_LINK_TARGET (1ull << 12)
#define WASI_RIGHT_PATH_OPEN (1ull << 13)
#define WASI_RIGHT_FD_READDIR (1ull << 14)
#define WASI_RIGHT_PATH_READLINK (1ull << 15)
#define WASI_RIGHT_PATH_RENAME_SOURCE (1ull << 16)
#define WASI_RIGHT_PATH_RENAME_TARGET (1ull << 17)
#define WASI_RIGHT_PATH_FILESTAT_GET (1ull << 18)
#define WASI_RIGHT_PATH_FILESTAT_SET_SIZE (1ull << 19)
#define WASI_RIGHT_PATH_FILESTAT_SET_TIMES (1ull << 20)
#define WASI_RIGHT_FD_FILESTAT_GET (1ull << 21)
#define WASI_RIGHT_FD_FILESTAT_SET_SIZE (1ull << 22)
#define WASI_RIGHT_FD_FILESTAT_SET_TIMES (1ull << 23)
#define WASI_RIGHT_PATH_SYMLINK (1ull << 24)
#define WASI_RIGHT_PATH_REMOVE_DIRECTORY (1ull << 25)
#define WASI_RIGHT_PATH_UNLINK_FILE (1ull << 26)
#define WASI_RIGHT_POLL_FD_READWRITE (1ull << 27)
#define WASI_RIGHT_SOCK_SHUTDOWN (1ull << 28)
#define WASI_RIGHT_SOCK_ACCEPT (1ull << 29)
#define WASI_RIGHTS_ALL ((1ull << 30) - 1)

/* ---- structure layouts: WASI_<STRUCT>_SIZE and WASI_<STRUCT>_<FIELD> offsets ------------- */

/* iovec / ciovec: { buf: u32, buf_len: u32 } */
#define WASI_IOVEC_SIZE 8
#define WASI_IOVEC_BUF 0
#define WASI_IOVEC_BUF_LEN 4

/* fdstat: { fs_filetype: u8, fs_flags: u16, fs_rights_base: u64, fs_rights_inheriting: u64 } */
#define WASI_FDSTAT_SIZE 24
#define WASI_FDSTAT_FILETYPE 0
#define WASI_FDSTAT_FLAGS 2
#define WASI_FDSTAT_RIGHTS_BASE 8
#define WASI_FDSTAT_RIGHTS_INHERITING 16

/* filestat: { dev, ino: u64, filetype: u8, nlink, size, atim, mtim, ctim: u64 } */
#define WASI_FILESTAT_SIZE 64
#define WASI_FILESTAT_DEV 0
#define WASI_FILESTAT_INO 8
#define WASI_FILESTAT_FILETYPE 16
#define WASI_FILESTAT_NLINK 24
#define WASI_FILESTAT_SIZE_FIELD 32
#define WASI_FILESTAT_ATIM 40
#define WASI_FILESTAT_MTIM 48
#define WASI_FILESTAT_CTIM 56

/* dirent: { d_next: u64, d_ino: u64, d_namlen: u32, d_type: u8 }, then d_namlen name bytes */
#define WASI_DIRENT_SIZE 24
#define WASI_DIRENT_NEXT 0
#define WASI_DIRENT_INO 8
#define WASI_DIRENT_NAMLEN 16
#define WASI_DIRENT_TYPE 20

/* prestat: { tag: u8, (dir) pr_name_len: u32 } */
#define WASI_PRESTAT_SIZE 8
#define WASI_PRESTAT_TAG 0
#define WASI_PRESTAT_NAME_LEN 4

/* subscription: { userdata: u64, u: { tag: u8, union at 8 (offset 16 overall) } }
 *   clock:        { id: u32 @16, timeout: u64 @24, precision: u64 @32, flags: u16 @40 }
 *   fd_readwrite: { file_descriptor: u32 @16 } */
#define WASI_SUBSCRIPTION_SIZE 48
#define WASI_SUBSCRIPTION_USERDATA 0
#define WASI_SUBSCRIPTION_TAG 8
#define WASI_SUBSCRIPTION_CLOCK_ID 16
#define WASI_SUBSCRIPTION_CLOCK_TIMEOUT 24
#define WASI_SUBSCRIPTION_CLOCK_PRECISION 32
#define WASI_SUBSCRIPTION_CLOCK_FLAGS 40
#define WASI_SUBSCRIPTION_FD 16

/* event: { userdata: u64, error: u16 @8, type: u8 @10, fd_readwrite: { nbytes: u64 @16,
 *          flags: u16 @24 } } */
#define WASI_EVENT_SIZE 32
#define WASI_EVENT_USERDATA 0
#define WASI_EVENT_ERROR 8
#define WASI_EVENT_TYPE 10
#define WASI_EVENT_NBYTES 16
#define WASI_EVENT_FLAGS 24

#endif
