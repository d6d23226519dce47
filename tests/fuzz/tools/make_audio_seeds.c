/* make_audio_seeds.c — makes the seed corpus for fuzz_audio (tests/fuzz/corpus/audio/): tiny files of
 * each accepted format, plus broken ones. Developer tool, not built by CMake:
 *   cd tests/fuzz/corpus/audio && cc ../../tools/make_audio_seeds.c -lsndfile -lm -o /tmp/gen && /tmp/gen */
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
static void wr(const char*p,int fmt,int sr,int ch,int n){SF_INFO i={0};i.samplerate=sr;i.channels=ch;i.format=fmt;
 SNDFILE*f=sf_open(p,SFM_WRITE,&i); if(!f){printf("%s: %s\n",p,sf_strerror(NULL));return;}
 float*b=malloc(sizeof(float)*n*ch);for(int k=0;k<n*ch;k++)b[k]=0.5f*sinf(k*0.05f)+0.01f*(k%7);
 sf_writef_float(f,b,n);sf_close(f);free(b);}
int main(){
 wr("pcm16_mono_8k.wav",SF_FORMAT_WAV|SF_FORMAT_PCM_16,8000,1,200);
 wr("pcm24_stereo_16k.wav",SF_FORMAT_WAV|SF_FORMAT_PCM_24,16000,2,150);
 wr("pcm32_mono_48k.wav",SF_FORMAT_WAV|SF_FORMAT_PCM_32,48000,1,100);
 wr("float_5ch_44k.wav",SF_FORMAT_WAV|SF_FORMAT_FLOAT,44100,5,40);
 wr("wavex_3ch.wav",SF_FORMAT_WAVEX|SF_FORMAT_PCM_16,16000,3,60);
 wr("rf64.rf64",SF_FORMAT_RF64|SF_FORMAT_PCM_16,16000,1,100);
 wr("aiff16.aiff",SF_FORMAT_AIFF|SF_FORMAT_PCM_16,22050,1,100);
 wr("flac16_stereo.flac",SF_FORMAT_FLAC|SF_FORMAT_PCM_16,44100,2,500);
 wr("flac24_mono.flac",SF_FORMAT_FLAC|SF_FORMAT_PCM_24,16000,1,500);
 wr("vorbis_mono.ogg",SF_FORMAT_OGG|SF_FORMAT_VORBIS,16000,1,1000);
 wr("mp3_mono.mp3",SF_FORMAT_MPEG|SF_FORMAT_MPEG_LAYER_III,16000,1,1000);
 wr("header_only.wav",SF_FORMAT_WAV|SF_FORMAT_PCM_16,16000,1,0);
 wr("full_for_trunc.wav",SF_FORMAT_WAV|SF_FORMAT_PCM_16,16000,1,400);
 wr("full_for_trunc.flac",SF_FORMAT_FLAC|SF_FORMAT_PCM_16,16000,1,4000);
 system("head -c 300 full_for_trunc.wav > truncated.wav; n=$(stat -c %s full_for_trunc.flac); head -c $((n/2)) full_for_trunc.flac > truncated.flac; rm full_for_trunc.*");
 FILE*f=fopen("text.txt","w");fputs("this is not audio\n1,2,3\n",f);fclose(f);
 return 0;}
